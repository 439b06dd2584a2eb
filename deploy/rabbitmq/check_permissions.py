"""Checks definitions.json against the code: every service user may do what its service does, and no more.

From the repository root, with the project's environment:  python deploy/rabbitmq/check_permissions.py

definitions.json is written by `python -m deploy.generate` (definitions.py) for every service of
services/registry.yaml; this checks it entity by entity. What each service does on the broker is read
from the service classes (nameko extensions, @subscribe handlers, the outbox) and turned into the
permission RabbitMQ checks for it:
  declare exchange X                → configure X
  … with an alternate exchange AE   → and read X, configure and write AE
  declare queue Q bound to X        → configure Q and X (kombu declares X too), write Q, read X
  declare Q with a dead-letter exch → read Q, write the dead-letter exchange
  consume Q → read Q;  publish to X → write X
No service may write to amq.default (the default exchange reaches every queue by its name).
A service that keeps the ended sessions (shared/revocation.py) also declares a queue of its own
process, bound to identity.events; other queues of a process (shared/process_feed.py: the gateway's of members'
events) are read from the extensions that declare them.
"""

import json
import re
import sys
import uuid
from pathlib import Path

import eventlet

eventlet.monkey_patch()  # importing the services imports nameko, which expects it

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from kombu import Queue  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from nameko.rpc import ReplyListener, RpcConsumer, get_rpc_exchange  # noqa: E402

from shared import config, registry, revocation, topology  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.process_feed import process_queues  # noqa: E402
from shared.serve import service_class  # noqa: E402
from deploy.rabbitmq.definitions import keeps_ended_sessions  # noqa: E402

SERVICES = registry.names()
DEFINITIONS = Path(__file__).with_name("definitions.json")


def default(name):
    return name or "amq.default"


def needs(name):
    """(kind, resource) pairs the user of service `name` must be allowed."""
    config.load(name)
    container = ServiceContainer(service_class(name))
    extensions = container.extensions
    rpc = get_rpc_exchange()
    declared, consumed, published = [], [], []

    declared += topology.unrouted_entities() + [topology.events_exchange(name)]  # prepare
    for subscription in topology.subscriptions_of(container.service_cls):
        declared += subscription.entities()
        consumed.append(subscription.main_queue())
        published.append(subscription.redelivery.name)  # a failed delivery goes to its back-off queue
    if keeps_ended_sessions(container.service_cls):
        queue = revocation.process_queue(name)  # exclusive to the process, bound to identity.events
        declared.append(queue)
        consumed.append(queue)
    for queue in process_queues(extensions):  # e.g. the gateway's of members' events
        declared.append(queue)
        consumed.append(queue)
    if any(isinstance(e, RpcConsumer) for e in extensions):
        queue = Queue(f"rpc-{name}", exchange=rpc, routing_key=f"{name}.*")
        declared.append(queue)
        consumed.append(queue)
        published.append(rpc.name)  # replies
    if any(isinstance(e, ReplyListener) for e in extensions):
        queue = Queue(f"rpc.reply-{name}-{uuid.uuid4()}", exchange=rpc, routing_key="x")
        declared.append(queue)
        consumed.append(queue)
        published.append(rpc.name)  # requests
    if any(isinstance(e, Database) for e in extensions):
        declared += topology.unrouted_entities() + [topology.events_exchange(name)]  # the outbox relay
        published.append(f"{name}.events")

    required = set()
    for entity in declared:
        required.add(("configure", entity.name))
        alternate = (getattr(entity, "arguments", None) or {}).get("alternate-exchange")
        if alternate:  # RabbitMQ also checks read on the exchange and write on its alternate
            required |= {("read", entity.name), ("configure", alternate), ("write", alternate)}
        if isinstance(entity, Queue):
            exchanges = [b.exchange for b in entity.bindings] if entity.bindings else [entity.exchange]
            for exchange in exchanges:
                if exchange is not None and exchange.name:
                    required |= {("configure", exchange.name), ("write", entity.name), ("read", exchange.name)}
            arguments = entity.queue_arguments or {}
            if "x-dead-letter-exchange" in arguments:
                required |= {("read", entity.name), ("write", default(arguments["x-dead-letter-exchange"]))}
    required |= {("read", queue.name) for queue in consumed}
    required |= {("write", default(exchange)) for exchange in published}
    return required


def forbidden(name):
    """What the user of `name` must not be allowed: other services' queues and event streams."""
    yield "write", "amq.default"  # it routes to any queue by name: a forged event straight into another's queue
    for other in SERVICES:
        if other == name:
            continue
        yield "write", f"{other}.events"
        yield "write", f"{other}.redelivery"
        yield "read", f"rpc-{other}"
        yield "read", f"rpc.reply-{other}-{uuid.uuid4()}"
        yield "read", f"evt-{name}-anything--{other}.handler"
        yield "configure", f"evt-{name}-anything--{other}.handler.dlq"


def main():
    definitions = json.loads(DEFINITIONS.read_text())
    permissions = {p["user"]: p for p in definitions["permissions"] if p["vhost"] == "sotay"}
    failures = []
    for name in SERVICES:
        granted = permissions.get(name)
        if granted is None:
            failures.append(f"{name}: no permissions in vhost sotay")
            continue
        sources = {s.source for s in topology.subscriptions_of(service_class(name))}
        if keeps_ended_sessions(service_class(name)):
            sources.add("identity")
        for kind, resource in sorted(needs(name)):  # loads the service's configuration
            if not re.search(granted[kind], resource):  # RabbitMQ searches; the regexes are anchored
                failures.append(f"{name}: needs {kind} on {resource!r}")
        container = ServiceContainer(service_class(name))
        feeds = process_queues(container.extensions)
        sources |= {binding.exchange.name.removesuffix(".events") for queue in feeds for binding in queue.bindings}
        unsubscribed = [(("read", f"{s}.events")) for s in SERVICES if s not in sources and s != name]
        for kind, resource in list(forbidden(name)) + unsubscribed:
            if re.search(granted[kind], resource):
                failures.append(f"{name}: must not have {kind} on {resource!r}")
    for failure in failures:
        print(failure)
    print(f"{len(SERVICES)} service users checked, {len(failures)} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
