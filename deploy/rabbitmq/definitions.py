"""definitions.json from services/registry.yaml and the service classes: the vhost, one user per service with
the permissions of what its code does on the broker (and no more), the events exchanges. Written by
`python -m deploy.generate`; check_permissions.py checks the result against the code queue by queue.

From a service class: whether it serves RPC (`rpc-<service>`), calls RPC (`rpc.reply-<service>-…`), handles
events (its `evt-…--<service>.…` queues, `<service>.redelivery`, and read on each source's `.events`), keeps
the ended sessions (a process queue bound to identity.events), keeps other process queues (shared/process_feed.py:
the gateway's of members' events) and has an outbox (write on `<service>.events`).
"""

import inspect

from nameko.containers import ServiceContainer
from nameko.rpc import ReplyListener, RpcConsumer

from shared import config, registry, topology
from shared.auth import Caller
from shared.db import Database
from shared.process_feed import permission_pattern, process_queues
from shared.revocation import EVENT_TYPE as SESSIONS_ENDED
from shared.serve import service_class

VHOST = "sotay"
RABBIT_VERSION = "3.13.7"


def keeps_ended_sessions(service_cls):
    """Whether the service keeps its own copy of the ended sessions (shared/revocation.py)."""
    return any(
        isinstance(value, Caller) and value.ended_sessions_factory is None
        for _, value in inspect.getmembers(service_cls)
    )


def facts(name):
    """What the code of service `name` does on the broker."""
    config.load(name)
    service_cls = service_class(name)
    container = ServiceContainer(service_cls)  # held: its extensions refer to it weakly
    extensions = container.extensions
    sources = sorted({subscription.source for subscription in topology.subscriptions_of(service_cls)})
    ended_sessions = keeps_ended_sessions(service_cls)
    feeds = process_queues(extensions)
    fed_by = {b.exchange.name.removesuffix(".events") for queue in feeds for b in queue.bindings}
    return {
        "rpc_server": any(isinstance(e, RpcConsumer) for e in extensions),
        "rpc_client": any(isinstance(e, ReplyListener) for e in extensions),
        "handlers": bool(sources),
        "sources": sorted(set(sources) | fed_by | ({SESSIONS_ENDED.split(".")[0]} if ended_sessions else set())),
        "ended_sessions": ended_sessions,
        "process_feeds": sorted(permission_pattern(queue) for queue in feeds),
        "outbox": any(isinstance(e, Database) for e in extensions),
    }


def _literal(name):
    return name.replace(".", r"\.")


def _alternatives(patterns):
    return "^(" + "|".join(patterns) + ")$"


def permissions(name, found):
    """The configure, write and read regexes of service `name`'s user."""
    own_queues = []
    if found["rpc_server"]:
        own_queues.append(f"rpc-{name}")
    if found["rpc_client"]:
        own_queues.append(rf"rpc\.reply-{name}-.+")
    if found["handlers"]:
        own_queues.append(rf"evt-.+--{name}\..+")
    elif found["ended_sessions"]:
        source, event = SESSIONS_ENDED.split(".")
        own_queues.append(rf"evt-{source}-{event}--{name}\..+")
    own_queues += found["process_feeds"]
    events = [_literal(f"{name}.events")]
    redelivery = [_literal(f"{name}.redelivery")] if found["handlers"] else []
    sources = [_literal(f"{source}.events") for source in found["sources"] if source != name]
    unrouted, rpc = _literal(topology.UNROUTED), "nameko-rpc"
    reachable = [unrouted, *events, *redelivery, *sources, rpc, *own_queues]
    written = [unrouted, *(events if found["outbox"] else []), *redelivery, rpc, *own_queues]
    return {
        "user": name,
        "vhost": VHOST,
        "configure": _alternatives(reachable),
        "write": _alternatives(written),
        "read": _alternatives(reachable),
    }


def _user(name, tags=()):
    # no password hash: nobody can log in with the file as committed (render_definitions.py fills them in)
    return {
        "name": name,
        "password_hash": "",
        "hashing_algorithm": "rabbit_password_hashing_sha256",
        "tags": list(tags),
    }


def _exchange(name, kind, arguments=None):
    return {
        "name": name,
        "vhost": VHOST,
        "type": kind,
        "durable": True,
        "auto_delete": False,
        "internal": False,
        "arguments": arguments or {},
    }


def document():
    services = registry.names()
    operator = {"user": "operator", "vhost": VHOST, "configure": ".*", "write": ".*", "read": ".*"}
    unrouted = topology.UNROUTED
    return {
        "rabbit_version": RABBIT_VERSION,
        "rabbitmq_version": RABBIT_VERSION,
        "users": [_user(name) for name in services] + [_user("operator", ["administrator"])],
        # a queue declared without x-queue-type (nameko's rpc-<service> and reply queues) is a quorum queue
        "vhosts": [{"name": VHOST, "metadata": {"description": "Sổ tay", "tags": [], "default_queue_type": "quorum"}}],
        "permissions": [permissions(name, facts(name)) for name in services] + [operator],
        "topic_permissions": [],
        "parameters": [],
        "global_parameters": [],
        "policies": [],
        "exchanges": [_exchange(unrouted, "fanout")]
        + [_exchange(f"{s.name}.events", "topic", {"alternate-exchange": unrouted}) for s in registry.with_database()]
        + [_exchange("nameko-rpc", "topic")],
        "queues": [
            {
                "name": unrouted,
                "vhost": VHOST,
                "durable": True,
                "auto_delete": False,
                "arguments": {"x-queue-type": "quorum"},
            }
        ],
        "bindings": [
            {
                "source": unrouted,
                "vhost": VHOST,
                "destination": unrouted,
                "destination_type": "queue",
                "routing_key": "",
                "arguments": {},
            }
        ],
    }
