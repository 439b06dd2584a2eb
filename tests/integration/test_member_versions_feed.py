"""The gateway's known member versions on a real broker (services/gateway/versions.py): two replicas, each with its
own queue, both forget a member's version on members' event about them, and everyone's on an import; after the
broker connection is lost nothing learnt before is trusted again."""

import eventlet
from kombu import Connection

from shared.events import envelope
from shared.topology import events_exchange
from services.gateway.versions import KnownVersions, MemberChangesFeed
from tests.support import rabbit
from tests.support.waiting import wait_for


def publish(amqp_uri, event_type, payload):
    with Connection(amqp_uri) as conn:
        conn.Producer().publish(
            envelope(event_type, payload),
            exchange=events_exchange("members"),
            routing_key=event_type,
            serializer="json",
            declare=[events_exchange("members")],
        )


def learn_all(replicas, *members):
    for known in replicas:
        for member_id in members:
            known.learn(member_id, f"v{member_id}", known.mark())


def test_every_replica_forgets_on_members_events_and_trusts_nothing_learnt_before_a_broker_loss(amqp_uri):
    replicas = [KnownVersions(), KnownVersions()]
    feeds = [MemberChangesFeed("gateway", amqp_uri, known, retry_interval=0.1) for known in replicas]
    threads = [eventlet.spawn(feed.run) for feed in feeds]
    try:
        wait_for(lambda: all(known.ready for known in replicas), message="both feeds consuming")
        learn_all(replicas, 1, 2)
        assert all(known.current(1) == "v1" for known in replicas)

        publish(amqp_uri, "members.member_updated", {"member_id": 1})
        wait_for(
            lambda: all(known.current(1) is None for known in replicas), timeout=5, message="both to forget member 1"
        )
        assert all(known.current(2) == "v2" for known in replicas)

        publish(amqp_uri, "members.members_imported", {"job_id": "j", "accepted": 3})
        wait_for(lambda: not any(len(known) for known in replicas), timeout=5, message="both to forget everyone")

        learn_all(replicas, 3)
        wait_for(lambda: rabbit.close_connections(amqp_uri) >= 2, timeout=10, message="the feeds' connections")
        # a change published while away may have been missed: nothing learnt before is trusted, then or after
        wait_for(lambda: all(known.current(3) is None for known in replicas), timeout=10, message="both forgotten")
        wait_for(lambda: all(known.ready for known in replicas), timeout=10, message="both feeds back")
        assert all(known.current(3) is None for known in replicas)
        learn_all(replicas, 3)
        publish(amqp_uri, "members.position_changed", {"member_id": 3})
        wait_for(lambda: all(known.current(3) is None for known in replicas), timeout=5, message="the new queues bound")
    finally:
        for feed in feeds:
            feed.stop()
        for thread in threads:
            thread.wait()
