"""Each process's copy of the ended sessions, on a real broker: fed by its own queue, restored from
identity when it starts and again after the broker connection was lost (ends may have been missed)."""

from datetime import UTC, datetime, timedelta

import eventlet
from kombu import Connection

from shared.errors import InvalidToken, ServiceUnavailable
from shared.events import envelope
from shared.revocation import EVENT_TYPE, EndedSessions, SessionEndsFeed
from shared.topology import events_exchange
from tests.support import rabbit
from tests.support.waiting import wait_for


def refused(ended, session_id):
    try:
        ended.check(session_id)
    except InvalidToken:
        return True
    except ServiceUnavailable:
        return False
    return False


def publish_end(amqp_uri, session_id):
    until = (datetime.now(UTC) + timedelta(minutes=15)).isoformat()
    with Connection(amqp_uri) as conn:
        conn.Producer().publish(
            envelope(EVENT_TYPE, {"session_ids": [session_id], "until": until}),
            exchange=events_exchange("identity"),
            routing_key=EVENT_TYPE,
            serializer="json",
            declare=[events_exchange("identity")],
        )


def test_every_replica_hears_every_end_and_restores_again_after_a_broker_loss(amqp_uri):
    restores = []
    until = (datetime.now(UTC) + timedelta(minutes=15)).isoformat()

    def restore():
        restores.append(len(restores) + 1)
        return {"items": [{"session_id": f"ended-before-restore-{len(restores)}", "until": until}]}

    replicas = [EndedSessions(), EndedSessions()]
    feeds = [SessionEndsFeed("members", amqp_uri, ended, restore, retry_interval=0.1) for ended in replicas]
    threads = [eventlet.spawn(feed.run) for feed in feeds]
    try:
        wait_for(lambda: all(ended.ready for ended in replicas), message="both replicas restored")
        assert all(
            refused(ended, "ended-before-restore-1") or refused(ended, "ended-before-restore-2") for ended in replicas
        )
        publish_end(amqp_uri, "logged-out")
        wait_for(
            lambda: all(refused(ended, "logged-out") for ended in replicas),
            timeout=5,
            message="both replicas to hear the end",
        )
        assert not any(refused(ended, "still-signed-in") for ended in replicas)

        wait_for(lambda: rabbit.close_connections(amqp_uri) >= 2, timeout=10, message="the feeds' connections")
        # back, each restored again: ends published while a replica was disconnected are not missed
        wait_for(
            lambda: len(restores) >= 4 and all(ended.ready for ended in replicas),
            timeout=10,
            message="both replicas to restore again",
        )
        assert all(
            refused(ended, "ended-before-restore-3") or refused(ended, "ended-before-restore-4") for ended in replicas
        )
        publish_end(amqp_uri, "after-reconnect")
        wait_for(
            lambda: all(refused(ended, "after-reconnect") for ended in replicas),
            timeout=5,
            message="the new queues to be bound",
        )
    finally:
        for feed in feeds:
            feed.stop()
        for thread in threads:
            thread.wait()
