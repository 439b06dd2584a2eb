"""A handler whose dependency is down waits for it (issue 9, item 4): it backs off past the short
ladder and keeps trying, on TTL back-off queues, until the dependency is back; only what can never
succeed is parked, and an operator can discard a parked delivery with a reason.

`Mirror` copies each member_created event after asking `almanac` (another service, over RPC) for
the day; `Almanac` is started only when the test says the outage is over.
"""

import logging

import pytest
from kombu import Connection
from nameko import config as nameko_config
from nameko.amqp.publish import get_producer
from nameko.rpc import rpc

from shared import config
from shared.events import envelope
from shared.rpc import Rpc
from shared.subscriber import subscribe
from shared.topology import Subscription, events_exchange
from tests.support.waiting import wait_for

SEEN = {"deliveries": 0, "copied": []}


class Mirror:
    name = "mirror"
    cluster = Rpc(timeout=1)

    @subscribe("members", "members.member_created")
    def on_member_created(self, event):
        SEEN["deliveries"] += 1
        day = self.cluster.almanac.today()  # ServiceUnavailable while almanac is down
        SEEN["copied"].append((event["id"], day))


class Almanac:
    name = "almanac"

    @rpc
    def today(self):
        return "2026-11-25"


SUBSCRIPTION = Subscription("members", "members.member_created", "mirror", "on_member_created")
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
def reset():
    SEEN.update(deliveries=0, copied=[])


@pytest.fixture
def outage_settings(settings):
    # short ladder 0.2 s, 0.4 s (FAST_RETRIES), then every 0.3 s for up to a minute
    with nameko_config.patch({"EVENT_OUTAGE_RETRY_DELAY": "0.3", "EVENT_RETRY_FOR": "60"}):
        yield settings


@pytest.fixture
def mirror(outage_settings, prepare):
    prepare("mirror", Mirror)
    return Mirror


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


def queue_depth(name):
    with Connection(config.amqp_uri()) as conn:
        return conn.default_channel.queue_declare(name, passive=True).message_count


def test_a_handler_whose_dependency_is_down_keeps_trying_and_succeeds_when_it_is_back(mirror, containers):
    containers(Mirror)
    event = envelope("members.member_created", SNAPSHOT)
    publish(event, message_id=event["id"])
    # the first delivery and the two short retries failed, and it keeps going
    wait_for(lambda: SEEN["deliveries"] >= 6, timeout=20, message="retries past the short ladder")
    assert queue_depth(SUBSCRIPTION.dlq_name) == 0
    assert SEEN["copied"] == []

    containers(Almanac)
    wait_for(lambda: SEEN["copied"], timeout=20, message="the copy once almanac is back")
    assert SEEN["copied"] == [(event["id"], "2026-11-25")]
    assert queue_depth(SUBSCRIPTION.dlq_name) == 0


def test_an_outage_longer_than_the_retry_window_is_parked(outage_settings, prepare, containers):
    with nameko_config.patch({"EVENT_RETRY_FOR": "2"}):
        prepare("mirror", Mirror)
        containers(Mirror)
        publish(envelope("members.member_created", SNAPSHOT))
        wait_for(lambda: queue_depth(SUBSCRIPTION.dlq_name) == 1, timeout=20, message="the parked delivery")
    assert SEEN["copied"] == []


def test_a_malformed_event_is_parked_at_once_even_while_a_dependency_is_down(mirror, containers):
    containers(Mirror)
    publish({"type": "members.member_created"})
    wait_for(lambda: queue_depth(SUBSCRIPTION.dlq_name) == 1, message="the parked delivery")
    assert SEEN["deliveries"] == 0


def test_an_operator_discards_a_parked_delivery_with_a_reason(mirror, containers, caplog):
    from shared.cli import dlq

    containers(Mirror)
    kept = envelope("members.member_created", SNAPSHOT)
    dropped = envelope("members.member_created", SNAPSHOT)
    publish({"type": "members.member_created", "id": "x"}, message_id=dropped["id"])
    publish({"type": "members.member_created", "id": "y"}, message_id=kept["id"])
    wait_for(lambda: queue_depth(SUBSCRIPTION.dlq_name) == 2, message="two parked deliveries")

    with caplog.at_level(logging.INFO, logger="shared.cli"):
        dlq("discard", SUBSCRIPTION.dlq_name, dropped["id"], "--reason", "test event sent by mistake")
    assert queue_depth(SUBSCRIPTION.dlq_name) == 1
    with Connection(config.amqp_uri()) as conn:
        left = conn.default_channel.basic_get(SUBSCRIPTION.dlq_name, no_ack=True)
    assert left.properties["message_id"] == kept["id"]
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert dropped["id"] in logged and "test event sent by mistake" in logged


def test_discarding_needs_a_reason_and_an_existing_message(mirror, containers):
    from shared.cli import dlq

    containers(Mirror)
    publish({"type": "members.member_created"}, message_id="m-1")
    wait_for(lambda: queue_depth(SUBSCRIPTION.dlq_name) == 1, message="the parked delivery")
    with pytest.raises(SystemExit):
        dlq("discard", SUBSCRIPTION.dlq_name, "m-1")
    with pytest.raises(SystemExit):
        dlq("discard", SUBSCRIPTION.dlq_name, "no-such-id", "--reason", "gone")
    assert queue_depth(SUBSCRIPTION.dlq_name) == 1
