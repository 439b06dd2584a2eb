"""RPC requests go without a publisher confirm only to a service seen with a consumer (issue 14 item 2): a request
to one whose queue does not exist still goes confirmed and `mandatory`, so its caller is told 503 at once instead
of waiting for its deadline."""

import time
from types import SimpleNamespace

from amqp.exceptions import NotFound

from shared.rpc import Availability, Rpc


class Broker:
    """A channel that knows each queue's consumers (None: no such queue)."""

    def __init__(self, consumers):
        self.consumers = consumers

    def queue_declare(self, queue, passive):
        count = self.consumers.get(queue)
        if count is None:
            raise NotFound()
        return SimpleNamespace(consumer_count=count)

    def channel(self):
        return self


class Publisher:
    def __init__(self):
        self.sent = []

    def publish(self, payload, **options):
        self.sent.append(options)


def caller(served=()):
    rpc = Rpc()
    rpc.availability = Availability()
    rpc.availability.served.update(served)
    rpc.publisher = Publisher()
    return rpc


def test_a_request_to_a_service_seen_served_goes_unconfirmed():
    rpc = caller(served={"members"})
    rpc.publish({"args": []}, routing_key="members.get_me", mandatory=True, correlation_id="1")
    (sent,) = rpc.publisher.sent
    assert "use_confirms" not in sent and "mandatory" not in sent and sent["routing_key"] == "members.get_me"


def test_a_request_to_a_service_not_yet_seen_is_confirmed_and_mandatory():
    rpc = caller()
    rpc.publish({"args": []}, routing_key="content.list_documents", mandatory=True, correlation_id="1")
    (sent,) = rpc.publisher.sent
    assert sent["use_confirms"] is True and sent["mandatory"] is True


def test_a_service_is_served_while_its_queue_has_a_consumer_and_not_once_it_has_none_or_no_queue():
    availability = Availability()
    availability.called = dict.fromkeys(("members", "content", "ghost"), time.monotonic())  # called just now
    broker = Broker({"rpc-members": 1, "rpc-content": 0})
    availability._look(broker, broker)
    assert availability.served == {"members"}
    assert availability.down == {"content", "ghost"}
    broker.consumers["rpc-members"] = 0
    availability._look(broker, broker)
    assert availability.served == set()
