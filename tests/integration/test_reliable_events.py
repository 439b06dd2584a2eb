"""Events over the real broker: nothing lost, nothing applied twice, poison parked.

`Ledger` is a small service of the test's own that records each member_created
event it handles; its handler can be told to fail.
"""

import uuid
from datetime import UTC, datetime

import pytest
from kombu import Connection
from nameko.amqp.publish import get_producer
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from shared import config
from shared.db import Database, make_engine
from shared.events import envelope
from shared.messaging_tables import outbox_table, processed_event_table
from shared.subscriber import ATTEMPT_HEADER, ERROR_HEADER, subscribe
from shared.topology import UNROUTED, Subscription, events_exchange
from tests.support import rabbit
from tests.support.waiting import wait_for

metadata = MetaData()
outbox_table(metadata)
processed_event_table(metadata)
entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("citizen_id", String(12)),
)

FAILURES = {"remaining": 0, "always": False, "deliveries": 0}


class Ledger:
    name = "ledger"
    db = Database(metadata)

    @subscribe("members", "members.member_created")
    def on_member_created(self, event):
        FAILURES["deliveries"] += 1
        if FAILURES["always"] or FAILURES["remaining"] > 0:
            FAILURES["remaining"] -= 1
            raise RuntimeError("the ledger is not ready")
        with self.db.transaction() as session:
            if self.db.claim(event):
                session.execute(
                    entries.insert().values(event_id=event["id"], citizen_id=event["payload"]["citizen_id"])
                )


SUBSCRIPTION = Subscription("members", "members.member_created", "ledger", "on_member_created")
SNAPSHOT = {
    "member_id": 1,
    "citizen_id": "001000000002",
    "full_name": "Lê Văn Hùng",
    "date_of_birth": None,
    "status": "official",
    "organization_id": 3,
    "organization_path": "/1/2/3/",
    "phone": None,
}


@pytest.fixture(autouse=True)
def reset_failures():
    FAILURES.update(remaining=0, always=False, deliveries=0)


@pytest.fixture
def ledger(settings, prepare):
    engine = make_engine(config.database_url("ledger"))
    metadata.create_all(engine)
    prepare("ledger", Ledger)
    yield engine
    engine.dispose()


def publish(body, **properties):
    with get_producer(config.amqp_uri()) as producer:
        producer.publish(
            body,
            exchange=events_exchange("members"),
            routing_key="members.member_created",
            serializer="json",
            delivery_mode=2,
            **properties,
        )


def count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(entries)).scalar_one()


def queue_depth(name):
    with Connection(config.amqp_uri()) as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


def take(name):
    with Connection(config.amqp_uri()) as conn:
        return conn.default_channel.basic_get(name, no_ack=True)


def test_a_handler_failing_twice_then_succeeding_applies_its_effect_once(ledger, containers):
    FAILURES["remaining"] = 2
    containers(Ledger)
    publish(envelope("members.member_created", SNAPSHOT))
    wait_for(lambda: count(ledger) == 1, message="the effect after two retries")
    assert FAILURES["deliveries"] == 3
    assert queue_depth(SUBSCRIPTION.dlq_name) == 0
    assert count(ledger) == 1


def test_a_redelivered_event_is_applied_once(ledger, containers):
    containers(Ledger)
    event = envelope("members.member_created", SNAPSHOT)
    publish(event)
    publish(event)
    wait_for(lambda: FAILURES["deliveries"] == 2, message="both deliveries")
    wait_for(lambda: queue_depth(SUBSCRIPTION.queue_name) == 0, message="the queue to drain")
    assert count(ledger) == 1


def test_a_poison_message_lands_on_the_dead_letter_queue_with_its_error(ledger, containers):
    FAILURES["always"] = True
    containers(Ledger)
    event = envelope("members.member_created", SNAPSHOT)
    publish(event, message_id=event["id"])
    wait_for(lambda: queue_depth(SUBSCRIPTION.dlq_name) == 1, message="the parked delivery")
    parked = take(SUBSCRIPTION.dlq_name)
    assert parked.properties["message_id"] == event["id"]
    assert parked.headers[ATTEMPT_HEADER] == 3  # the first delivery and two retries
    assert "the ledger is not ready" in parked.headers[ERROR_HEADER]
    assert FAILURES["deliveries"] == 3
    assert count(ledger) == 0


@pytest.mark.parametrize("body", [{"type": "members.member_created"}, "plain text"])
def test_a_malformed_message_is_parked_at_once(ledger, containers, body):
    containers(Ledger)
    publish(body)
    wait_for(lambda: queue_depth(SUBSCRIPTION.dlq_name) == 1, message="the parked delivery")
    assert FAILURES["deliveries"] == 0


def test_a_parked_delivery_can_be_replayed_once_the_fault_is_fixed(ledger, containers):
    from shared.cli import dlq

    FAILURES["always"] = True
    containers(Ledger)
    publish(envelope("members.member_created", SNAPSHOT))
    wait_for(lambda: queue_depth(SUBSCRIPTION.dlq_name) == 1, message="the parked delivery")
    FAILURES["always"] = False
    dlq("replay", SUBSCRIPTION.dlq_name)
    wait_for(lambda: count(ledger) == 1, message="the replayed effect")


def producer_outbox():
    """A producer's database with an outbox of its own; `commit(n)` commits one pending event, returns its id."""
    engine = make_engine(config.database_url("producer"))
    own = MetaData()
    outbox = outbox_table(own)
    own.create_all(engine)

    def commit(n=1):
        event_id = str(uuid.uuid4())
        with engine.begin() as conn:
            conn.execute(
                outbox.insert().values(
                    id=event_id,
                    type="identity.password_changed",
                    version=1,
                    payload={"member_id": n},
                    occurred_at=datetime.now(UTC),
                    state="pending",
                    attempts=0,
                )
            )
        return event_id

    return engine, outbox, commit


def test_an_event_nobody_subscribes_to_is_caught_not_dropped(settings):
    from shared.outbox import Relay

    engine, outbox, commit = producer_outbox()
    commit()
    assert Relay(engine, outbox, "identity", config.amqp_uri()).relay_once() == 1
    wait_for(lambda: queue_depth(UNROUTED) == 1, message="the unroutable event in sotay.unrouted")
    engine.dispose()


def test_a_relay_whose_broker_connection_was_lost_publishes_again_on_a_new_one(settings):
    """A broker restart or a dropped connection closes the relay's kept channel: the next pass opens a new
    connection, declares its exchanges there and publishes, rather than failing on the old channel for ever."""
    from shared.outbox import Relay

    engine, outbox, commit = producer_outbox()
    relay = Relay(engine, outbox, "identity", config.amqp_uri())
    commit()
    assert relay.relay_once() == 1
    wait_for(lambda: rabbit.close_connections(config.amqp_uri()) >= 1, timeout=10, message="the relay's connection")
    later = commit()
    # the first pass may still find the lost channel (its error only read when it talks to the broker again)
    wait_for(lambda: relay.relay_once() == 1, timeout=10, message="the event after the loss published")
    wait_for(lambda: queue_depth(UNROUTED) == 2, message="both events in sotay.unrouted")
    assert [take(UNROUTED).properties["message_id"] for _ in range(2)][1] == later
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.state)).scalars().all() == ["sent", "sent"]
    relay.close()
    engine.dispose()


def test_sent_outbox_rows_are_forgotten_after_a_while_pending_ones_never(settings):
    from datetime import timedelta

    from shared.outbox import Relay

    engine = make_engine(config.database_url("producer"))
    own = MetaData()
    outbox = outbox_table(own)
    own.create_all(engine)
    old = datetime.now(UTC) - timedelta(days=30)
    with engine.begin() as conn:
        for state in ("sent", "pending"):
            conn.execute(
                outbox.insert().values(
                    id=str(uuid.uuid4()),
                    type="identity.password_changed",
                    version=1,
                    payload={"member_id": 1},
                    occurred_at=old,
                    state=state,
                    attempts=0,
                    sent_at=old if state == "sent" else None,
                    next_attempt_at=datetime.now(UTC) + timedelta(days=1),
                )
            )
    relay = Relay(engine, outbox, "identity", config.amqp_uri())
    assert relay.prune() == 1
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.state)).scalars().all() == ["pending"]
    engine.dispose()


def test_a_burst_of_commits_goes_out_in_fewer_passes_than_commits_each_event_once_in_order(settings):
    """Woken by each commit, the relay gathers a burst's commits for a few ms into one pass (a pass per commit
    was most of its cost in the check-in burst), and still publishes every event once, in commit order."""
    import eventlet

    from shared.outbox import Relay, RelayRunner

    engine, outbox, commit = producer_outbox()
    # gathering for up to 50 ms (5 in a service): the commits below keep coming at the loaded machine's pace
    runner = RelayRunner(Relay(engine, outbox, "identity", config.amqp_uri()), interval=0.1, gather=0.05)
    thread = eventlet.spawn(runner.run)
    ids = []
    for n in range(100):  # a commit every millisecond or so, each nudging the relay, as a burst's check-ins do
        ids.append(commit(n))
        runner.nudge()
        eventlet.sleep(0.001)
    wait_for(lambda: queue_depth(UNROUTED) == len(ids), message="every event of the burst")
    runner.stop()
    thread.wait()
    published = [take(UNROUTED).properties["message_id"] for _ in ids]
    assert published == ids and take(UNROUTED) is None
    with engine.connect() as conn:
        states = conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state)).all()
        passes = conn.execute(select(func.count(outbox.c.sent_at.distinct()))).scalar_one()
    assert states == [("sent", len(ids))]
    assert passes < len(ids) / 2, passes
    engine.dispose()


def test_a_relay_gathering_a_burst_goes_once_enough_commits_have_come(settings):
    """The wait after a nudge is bounded by commits as well as time: `enough` of them end it at once."""
    import eventlet

    from shared.outbox import Relay, RelayRunner

    engine, outbox, commit = producer_outbox()
    runner = RelayRunner(Relay(engine, outbox, "identity", config.amqp_uri()), interval=0.1, gather=60, enough=5)
    thread = eventlet.spawn(runner.run)
    wait_for(lambda: runner.passes, message="the relay's first pass")
    for n in range(5):
        commit(n)
        runner.nudge()
    sent = select(func.count()).select_from(outbox).where(outbox.c.state == "sent")
    with engine.connect() as conn:
        wait_for(lambda: conn.execute(sent).scalar_one() == 5, timeout=10, message="five events, long before 60 s")
    runner.stop()
    thread.wait()
    engine.dispose()
