"""A batching subscriber over the real broker (`@subscribe(..., batch=N)`): every event applied once, a redelivered
batch changes nothing, a poison event takes the retry/DLQ ladder alone while the rest of its batch commits, and a
container killed between a batch's commit and its ack leaves no double effect.

`Tally` is a small service of the test's own recording each member_updated event as a row, in batches.
"""

import eventlet
import pytest
from kombu import Connection
from nameko.amqp.publish import get_producer
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from shared import config
from shared.db import Database, make_engine
from shared.events import envelope
from shared.messaging_tables import outbox_table, processed_event_table
from shared.subscriber import ATTEMPT_HEADER, subscribe
from shared.topology import Subscription, events_exchange
from tests.integration.test_reliable_events import SNAPSHOT, queue_depth
from tests.support import rabbit
from tests.support.waiting import wait_for

metadata = MetaData()
outbox_table(metadata)
processed_event_table(metadata)
tally = Table(
    "tally",
    metadata,
    Column("event_id", String(36), primary_key=True),  # a second row for one event would fail the test loudly
    Column("member_id", Integer, nullable=False),
)

POISON = 13  # the member id whose event can never be applied
SEEN = {"batches": [], "poisoned": [], "hold": None, "committed": None}


def record(session, event):
    if event["payload"]["member_id"] == POISON:
        raise ValueError("this member's record cannot be applied")
    session.execute(tally.insert(), {"event_id": event["id"], "member_id": event["payload"]["member_id"]})


class Tally:
    name = "tally"
    db = Database(metadata)

    @subscribe("members", "members.member_updated", batch=50)
    def on_member_updated(self, events):
        SEEN["batches"].append(len(events))
        if any(event["payload"]["member_id"] == POISON for event in events):
            SEEN["poisoned"].append(len(events))
        self.db.once_each(events, record)
        if SEEN["hold"] is not None:  # committed; the ack comes only when the test lets go
            if not SEEN["committed"].ready():
                SEEN["committed"].send()
            SEEN["hold"].wait()


SUBSCRIPTION = Subscription("members", "members.member_updated", "tally", "on_member_updated")


def snapshot(member_id):
    return {**SNAPSHOT, "member_id": member_id, "citizen_id": f"{member_id:012d}"}


@pytest.fixture(autouse=True)
def reset():
    SEEN.update(batches=[], poisoned=[], hold=None, committed=None)


@pytest.fixture
def tally_db(settings, prepare):
    engine = make_engine(config.database_url("tally"))
    metadata.create_all(engine)
    prepare("tally", Tally)
    yield engine
    engine.dispose()


def publish(events):
    with get_producer(config.amqp_uri(), confirms=True) as producer:
        for event in events:
            producer.publish(
                event,
                exchange=events_exchange("members"),
                routing_key="members.member_updated",
                serializer="json",
                delivery_mode=2,
                message_id=event["id"],
            )


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(tally.c.event_id)).scalars().all()


def claims(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(metadata.tables["processed_events"])).scalar_one()


def idle():
    return rabbit.queue_idle(config.amqp_uri(), SUBSCRIPTION.queue_name)


def test_a_batch_applies_every_event_once(tally_db, containers):
    events = [envelope("members.member_updated", snapshot(n)) for n in range(100, 220)]
    containers(Tally)
    publish(events)
    wait_for(lambda: len(rows(tally_db)) == len(events), message="every effect")
    wait_for(idle, message="every delivery acked")
    assert sorted(rows(tally_db)) == sorted(event["id"] for event in events)
    assert claims(tally_db) == len(events)
    assert sum(SEEN["batches"]) == len(events)
    assert len(SEEN["batches"]) < len(events) / 2, SEEN["batches"]  # batches, not one event a call
    assert max(SEEN["batches"]) <= 50


def test_a_redelivered_batch_changes_nothing(tally_db, containers):
    events = [envelope("members.member_updated", snapshot(n)) for n in range(100, 140)]
    containers(Tally)
    publish(events + events)  # every event twice, some of the repeats in the batch of the first
    wait_for(lambda: sum(SEEN["batches"]) == 2 * len(events), message="both deliveries of every event")
    wait_for(idle, message="every delivery acked")
    assert sorted(rows(tally_db)) == sorted(event["id"] for event in events)
    assert claims(tally_db) == len(events)


def test_a_poison_event_takes_the_ladder_alone_while_its_batch_commits(tally_db, containers):
    events = [envelope("members.member_updated", snapshot(n)) for n in range(1, 41)]  # member 13 among them
    poison = next(event for event in events if event["payload"]["member_id"] == POISON)
    publish(events)  # waiting when the service starts: they come in one batch
    containers(Tally)
    wait_for(lambda: queue_depth(SUBSCRIPTION.dlq_name) == 1, message="the poison event parked")
    wait_for(idle, message="every other delivery acked")
    assert sorted(rows(tally_db)) == sorted(event["id"] for event in events if event is not poison)
    with Connection(config.amqp_uri()) as conn:
        parked = conn.default_channel.basic_get(SUBSCRIPTION.dlq_name, no_ack=True)
    assert parked.properties["message_id"] == poison["id"]
    assert parked.headers[ATTEMPT_HEADER] == 3  # its first delivery alone and two retries, as without batches
    # it came in a batch, which failed and was handled again one by one: then its ladder alone
    assert SEEN["poisoned"][0] > 1 and SEEN["poisoned"][1:] == [1, 1, 1], SEEN["poisoned"]
    assert claims(tally_db) == len(events) - 1


def test_a_container_killed_between_commit_and_ack_leaves_no_double_effect(tally_db, containers):
    events = [envelope("members.member_updated", snapshot(n)) for n in range(100, 130)]
    SEEN.update(hold=eventlet.event.Event(), committed=eventlet.event.Event())
    first = containers(Tally)
    publish(events)
    with eventlet.Timeout(15):
        SEEN["committed"].wait()  # a batch committed, its ack held back
    committed = rows(tally_db)
    assert committed
    first.kill()
    SEEN.update(hold=None, batches=[])
    containers(Tally)
    wait_for(lambda: len(rows(tally_db)) == len(events), message="every effect after the restart")
    wait_for(idle, message="every delivery acked")
    assert sum(SEEN["batches"]) >= len(events)  # the killed batch came again…
    assert sorted(rows(tally_db)) == sorted(event["id"] for event in events)  # …and changed nothing
    assert claims(tally_db) == len(events)
