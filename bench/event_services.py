"""The services of `python -m bench.events`, each run as its own process: `python -m bench.event_services ROLE`.

  prepare N   the producer's and the consumer's databases made, N `members.member_updated` events committed into
              the producer's outbox through `UnitOfWork.publish` (transactions of EVENTS_PER_COMMIT), the consumer's
              queues declared
  source      a service named `members` with nothing but its database: its outbox relay (shared/outbox.py) starts
              when a line comes on stdin (the bench's clock)
  ledger      the consumer: `@subscribe` records each event as a row of its own database, idempotently
              (BENCH_EVENTS_BATCH=0: one delivery per worker, `once`; N: batches of up to N, their claims
              and rows in one transaction)

Settings come from the environment (AMQP_URI, DATA_DIR or MEMBERS_/LEDGER_DATABASE_URL).
"""

import eventlet

eventlet.monkey_patch()  # before anything imports socket or threading

import os  # noqa: E402

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")  # as shared/serve.py: green waits on PostgreSQL

import sys  # noqa: E402
import warnings  # noqa: E402

from kombu import Connection  # noqa: E402
from nameko import config as nameko_config  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, String, Table  # noqa: E402

from shared import config, topology  # noqa: E402
from shared.db import Database, make_engine, standalone_unit  # noqa: E402
from shared.messaging_tables import outbox_table, processed_event_table  # noqa: E402
from shared.subscriber import subscribe  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)

EVENT_TYPE = "members.member_updated"
EVENTS_PER_COMMIT = 100
BATCH = int(os.environ.get("BENCH_EVENTS_BATCH", 200))

source_metadata = MetaData()
outbox_table(source_metadata)
processed_event_table(source_metadata)

ledger_metadata = MetaData()
outbox_table(ledger_metadata)
processed_event_table(ledger_metadata)
effects = Table(
    "effects",
    ledger_metadata,
    Column("event_id", String(36), primary_key=True),
    Column("member_id", Integer, nullable=False),
    Column("organization_path", String(200), nullable=False),
)


def snapshot(n):
    """A member's record as members publishes it when it changes (the payload of a typical envelope)."""
    return {
        "member_id": n,
        "citizen_id": f"{n:012d}",
        "full_name": f"Nguyễn Thị Đảng Viên {n}",
        "date_of_birth": "1980-05-17",
        "status": "official",
        "organization_id": 3 + n % 3000,
        "organization_path": f"/1/2/{3 + n % 3000}/",
        "phone": f"+8491{n % 10_000_000:07d}",
        "email": None,
        "activated": True,
    }


RECORD = effects.insert()  # built once: a statement per event would be compiled (keyed) per event


def effect_row(envelope):
    payload = envelope["payload"]
    return {
        "event_id": envelope["id"],
        "member_id": payload["member_id"],
        "organization_path": payload["organization_path"],
    }


def record(session, envelope):
    session.execute(RECORD, effect_row(envelope))


class Source:
    name = "members"
    db = Database(source_metadata)


class Ledger:
    name = "ledger"
    db = Database(ledger_metadata)

    @subscribe("members", EVENT_TYPE)
    def on_member_updated(self, envelope):
        self.db.once(envelope, record)


class BatchLedger:
    name = "ledger"
    db = Database(ledger_metadata)

    @subscribe("members", EVENT_TYPE, batch=BATCH or None)
    def on_member_updated(self, envelopes):
        # the batch's rows in one statement, in one transaction with its claims
        with self.db.transaction() as session:
            fresh = self.db.claim_all(envelopes)
            if fresh:
                session.execute(RECORD, [effect_row(envelope) for envelope in fresh])


def ledger_class():
    return BatchLedger if BATCH else Ledger


def prepare(n):
    for metadata, service in ((source_metadata, "members"), (ledger_metadata, "ledger")):
        engine = make_engine(config.database_url(service))
        metadata.create_all(engine)
        engine.dispose()
    unit, database = standalone_unit(source_metadata, "members")
    for start in range(0, n, EVENTS_PER_COMMIT):
        with unit.transaction():
            for member in range(start, min(n, start + EVENTS_PER_COMMIT)):
                unit.publish(EVENT_TYPE, snapshot(member + 1))
    unit.close()
    database.engine.dispose()
    with Connection(config.amqp_uri()) as conn:
        topology.declare_service(conn, ledger_class())


def serve(service_cls, wait_for_go=False):
    container = ServiceContainer(service_cls)
    if wait_for_go:
        print("ready", flush=True)
        sys.stdin.readline()
    container.start()
    print("started", flush=True)
    container.wait()


def main(argv):
    nameko_config.update({"AMQP_URI": config.amqp_uri(), "DATA_DIR": str(config.data_dir())})
    role = argv[0]
    if role == "prepare":
        prepare(int(argv[1]))
    elif role == "source":
        serve(Source, wait_for_go=True)
    elif role == "ledger":
        serve(ledger_class())
    else:
        raise SystemExit("usage: python -m bench.event_services prepare N | source | ledger")


if __name__ == "__main__":
    main(sys.argv[1:])
