"""The gateway's known list versions on a real broker (services/gateway/versions.py): one process's two feeds, of
members' events and of content's and meetings'; a publication forgets the document lists of its audience's
organisations, a meeting's event the lists showing its organisation's meetings; while the lists' feed is away
nothing is trusted, and nothing learnt before comes back with it."""

import eventlet
from kombu import Connection

from shared.events import envelope
from shared.topology import events_exchange
from services.gateway.versions import (
    DOCUMENTS,
    LISTS,
    MEETINGS,
    KnownVersions,
    ListChangesFeed,
    MemberChangesFeed,
)
from tests.support import rabbit
from tests.support.waiting import wait_for

DOCS_1, DOCS_2, MEET_1 = (1, DOCUMENTS, ()), (2, DOCUMENTS, ()), (1, MEETINGS, ())


def publish(amqp_uri, source, event_type, payload):
    with Connection(amqp_uri) as conn:
        conn.Producer().publish(
            envelope(event_type, payload),
            exchange=events_exchange(source),
            routing_key=event_type,
            serializer="json",
            declare=[events_exchange(source)],
        )


def learn_all(known):
    mark = known.mark()
    known.learn(DOCS_1, "d1", mark, tags=[DOCUMENTS, ("organization", 3)])
    known.learn(DOCS_2, "d2", mark, tags=[DOCUMENTS, ("organization", 4)])
    known.learn(MEET_1, "m1", mark, tags=[MEETINGS, ("meetings of", 3)])


def test_content_and_meetings_events_forget_the_lists_they_touch_and_nothing_is_trusted_while_away(amqp_uri):
    known = KnownVersions(feeds=("members", LISTS))
    feeds = [
        MemberChangesFeed("gateway", amqp_uri, known, retry_interval=0.1),
        ListChangesFeed("gateway", amqp_uri, known, retry_interval=0.1),
    ]
    threads = [eventlet.spawn(feed.run) for feed in feeds]
    try:
        wait_for(lambda: known.ready, message="both feeds consuming")
        learn_all(known)
        audience = [{"organization_id": 3, "organization_path": "1.3"}]
        publish(amqp_uri, "content", "content.document_withdrawn", {"document_id": 5, "audience": audience})
        wait_for(lambda: known.current(DOCS_1) is None, timeout=5, message="the branch's document lists forgotten")
        assert known.current(DOCS_2) == "d2" and known.current(MEET_1) == "m1"
        publish(amqp_uri, "meetings", "meetings.meeting_updated", {"meeting_id": 9, "organization_id": 3})
        wait_for(lambda: known.current(MEET_1) is None, timeout=5, message="the meeting lists showing it forgotten")
        assert known.current(DOCS_2) == "d2"

        learn_all(known)
        wait_for(lambda: rabbit.close_connections(amqp_uri) >= 2, timeout=10, message="the feeds' connections")
        wait_for(lambda: known.current(DOCS_2) is None, timeout=10, message="nothing trusted while away")
        wait_for(lambda: known.ready, timeout=10, message="both feeds back")
        assert known.current(DOCS_2) is None
    finally:
        for feed in feeds:
            feed.stop()
        for thread in threads:
            thread.wait()
