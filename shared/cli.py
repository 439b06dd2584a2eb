"""Operator commands: `python -m shared.cli <command> …`.

prepare <service>…     run its migrations and declare its queues (before it first runs); outside
                       production, create its development service key pair when missing
new-service <name> [<what it owns>]
                       a new service from shared/skeleton/: its package, first migration, contract stub,
                       tests, registry entry; then the deploy files (make new-service S=<name>)
revision <service> <message>
                       a new migration of its database: what its models add to it at the latest revision
                       (SQLite under DATA_DIR unless <SERVICE>_DATABASE_URL names another); review it
service-keys <dir> [--private-dir <dir/{service}>] <service>…
                       create missing key pairs of services (or of an operator's tool): every
                       <service>.pub goes to all hosts, <service>.key to that service's only
outbox <service>       outbox rows by state, the oldest pending, the last errors
dlq list               dead-letter queues and how many deliveries each holds
dlq show <queue>       the parked deliveries (type, id, attempts, error) without removing them
dlq replay <queue>     move parked deliveries back to their handler's queue
dlq discard <queue> <message id> --reason <why>
                       delete one parked delivery that must never be applied; the reason is logged
asyncapi               the event catalogue as an AsyncAPI document (JSON)
backup <service> <file>
                       its database saved to <file> while it runs (SQLite's backup API, pg_dump)
restore <service> <file>
                       its database replaced by a backup's, with every replica of it stopped (then see
                       deploy/README.md, Backups)
"""

import json
import logging
import sys

from shared import config

log = logging.getLogger(__name__)


def _service_cls(name):
    from shared.serve import service_class

    return service_class(name)


def prepare(*names):
    if not names:
        raise SystemExit("usage: python -m shared.cli prepare <service>…")
    from nameko import config as settings

    # the services' modules patch eventlet on import (shared.serve); patched first, before alembic and SQLAlchemy
    # load, every migration runs alike and the patch has few existing locks to find (it walks every object)
    import shared.serve  # noqa: F401

    for name in names:
        with settings.patch({}, clear=True):  # each service with its own config.yaml alone
            _prepare(name)


def _prepare(name):
    from kombu import Connection

    from shared import migrations, registry, service_tokens, topology

    config.load(name)
    config.tighten(config.data_dir())
    try:
        service_tokens.ensure_key_pair(name)  # in production: only checks that it was provisioned
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    has_database = registry.service(name).database
    if has_database:
        migrations.upgrade(name)
    with Connection(config.amqp_uri()) as conn:
        entities = topology.declare_service(conn, _service_cls(name))
    queues = sum(1 for e in entities if hasattr(e, "queue_arguments"))
    print(f"{name}: {'database at the latest migration, ' if has_database else ''}{queues} queues declared")


def new_service(name=None, *summary):
    import subprocess

    from shared import scaffold

    if not name:
        raise SystemExit('usage: python -m shared.cli new-service <name> ["what it owns"]')
    for path in scaffold.create(name, " ".join(summary) or None):
        print(f"wrote {path}")
    # in a process of its own: it imports every service, the new one too
    subprocess.run([sys.executable, "-m", "deploy.generate"], cwd=config.REPO_ROOT, check=True)
    print(
        f"\n{name} is registered: `make run` starts it, `make test` tests it, deploy/ deploys it. "
        f"Next: services/{name}/README.md, then its tables, contract and RPCs."
    )


def revision(name=None, *message):
    from shared import migrations

    if not name or not message:
        raise SystemExit('usage: python -m shared.cli revision <service> "<what changes>"')
    config.load(name)
    script = migrations.revision(name, " ".join(message))
    print(f"wrote {script.path}: review it before committing")


def service_keys(directory=None, *services):
    from shared.service_tokens import create_key_pair

    private = None
    if services[:1] == ("--private-dir",) and len(services) > 1:  # a template: /keys/{service}
        private, services = services[1], services[2:]
    if not directory or not services:
        raise SystemExit(
            "usage: python -m shared.cli service-keys <directory> [--private-dir <dir/{service}>] <service>…"
        )
    for service in services:
        private_directory = private.format(service=service) if private else directory
        create_key_pair(directory, service, private_directory)
        print(f"{private_directory}/{service}.key (that service's host only), {directory}/{service}.pub (every host)")


def outbox(name):
    from sqlalchemy import MetaData, func, select

    from shared.db import make_engine
    from shared.messaging_tables import outbox_table

    config.load(name)
    table = outbox_table(MetaData())
    engine = make_engine(config.database_url(name))
    with engine.connect() as conn:
        counts = dict(conn.execute(select(table.c.state, func.count()).group_by(table.c.state)).all())
        oldest = conn.execute(
            select(table.c.occurred_at).where(table.c.state == "pending").order_by(table.c.seq).limit(1)
        ).scalar()
        failing = conn.execute(
            select(table.c.type, table.c.id, table.c.attempts, table.c.last_error)
            .where(table.c.state == "pending", table.c.attempts > 0)
            .order_by(table.c.seq)
            .limit(10)
        ).all()
    print(
        json.dumps(
            {
                "service": name,
                "by_state": counts,
                "oldest_pending": str(oldest) if oldest else None,
                "failing": [dict(row._mapping) for row in failing],
            },
            indent=2,
            default=str,
        )
    )


def _management():
    """RabbitMQ's management API (enabled by `make test`/.ci/run) for listing queues."""
    import base64
    import urllib.parse
    import urllib.request

    uri = urllib.parse.urlparse(config.amqp_uri())
    vhost = urllib.parse.quote(urllib.parse.unquote(uri.path[1:]) or "/", safe="")
    base = config.get("RABBIT_API_URI", f"http://{uri.hostname}:15672/api")
    auth = base64.b64encode(f"{uri.username or 'guest'}:{uri.password or 'guest'}".encode()).decode()
    request = urllib.request.Request(f"{base}/queues/{vhost}", headers={"Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def dlq(action, queue=None, *rest):
    from kombu import Connection

    from shared.subscriber import RETRY_HEADERS

    if action == "discard":
        return _discard(queue, *rest)
    if action == "list":
        for q in _management():
            if q["name"].endswith(".dlq") or q["name"] == "sotay.unrouted":
                print(f"{q.get('messages', 0):8d}  {q['name']}")
        return
    if not queue or not queue.endswith(".dlq"):
        raise SystemExit("name a dead-letter queue (<queue>.dlq)")
    target = queue[: -len(".dlq")]
    moved = 0
    with Connection(config.amqp_uri()) as conn:
        channel = conn.channel()
        while True:
            message = channel.basic_get(queue, no_ack=False)
            if message is None:
                break
            headers = dict(message.headers or {})
            if action == "show":  # left unacked: back on the queue when the channel closes
                print(
                    json.dumps(
                        {
                            "type": message.properties.get("type"),
                            "message_id": message.properties.get("message_id"),
                            "attempts": headers.get("x-sotay-attempt"),
                            "error": headers.get("x-sotay-error"),
                        },
                        ensure_ascii=False,
                    )
                )
                continue
            for header in RETRY_HEADERS:  # a replay gets the whole ladder and retry window again
                headers.pop(header, None)
            producer = conn.Producer(channel=conn.channel())
            producer.publish(
                message.body,
                exchange="",
                routing_key=target,
                headers=headers,
                content_type=message.content_type,
                content_encoding=message.content_encoding,
                delivery_mode=2,
                message_id=message.properties.get("message_id"),
                type=message.properties.get("type"),
            )
            channel.basic_ack(message.delivery_tag)
            moved += 1
        channel.close()  # unacked (shown) deliveries go back to the queue
    if action == "replay":
        print(f"{moved} deliveries moved from {queue} to {target}")


def _discard(queue, message_id=None, *rest):
    from kombu import Connection

    reason = " ".join(rest[1:]).strip() if rest[:1] == ("--reason",) else ""
    if not queue or not queue.endswith(".dlq") or not message_id or not reason:
        raise SystemExit("usage: python -m shared.cli dlq discard <queue>.dlq <message id> --reason <why>")
    found = None
    with Connection(config.amqp_uri()) as conn:
        channel = conn.channel()
        while found is None:
            message = channel.basic_get(queue, no_ack=False)
            if message is None:
                break
            if message.properties.get("message_id") == message_id:
                found = message
        if found is not None:
            channel.basic_ack(found.delivery_tag)
        channel.close()  # the others, unacked, go back to the queue
    if found is None:
        raise SystemExit(f"no parked delivery {message_id} on {queue}")
    log.warning(
        "parked delivery discarded from %s: id %s, type %s; reason: %s",
        queue,
        message_id,
        found.properties.get("type"),
        reason,
    )
    print(f"discarded {message_id} from {queue}")


def asyncapi():
    from shared.asyncapi import document

    print(json.dumps(document(), indent=2, ensure_ascii=False))


def _backups(command, name=None, path=None):
    from shared import backups, registry

    if not name or not path:
        raise SystemExit(f"usage: python -m shared.cli {command} <service> <file>")
    if not registry.service(name).database:
        raise SystemExit(f"{name} keeps no database")
    config.load(name)
    try:
        getattr(backups, command)(name, path)
    except backups.BackupError as exc:
        raise SystemExit(f"{command} of {name}: {exc}") from None
    print(f"{name}: {'saved to' if command == 'backup' else 'restored from'} {path}")


def backup(name=None, path=None):
    _backups("backup", name, path)


def restore(name=None, path=None):
    _backups("restore", name, path)


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    config.keep_files_private()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    commands = {
        "prepare": prepare,
        "new-service": new_service,
        "revision": revision,
        "service-keys": service_keys,
        "outbox": outbox,
        "dlq": dlq,
        "asyncapi": asyncapi,
        "backup": backup,
        "restore": restore,
    }
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    commands[argv[0]](*argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
