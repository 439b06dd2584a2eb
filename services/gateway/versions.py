"""Conditional reads answered at the edge: {key → the version of the answer this process last relayed}, for
`GET /me` (key: the member id), a member's document list and meeting list (key: member id, list, query) and a
meeting as they see it (key: member id, "meeting", meeting id).

The owning service gives each answer a version (a digest of what it shows), and until when it holds by itself
when the clock moves it (a meeting starting, a scheduled publication falling due); it publishes an event for
every write that changes what such an answer shows. A read whose `If-None-Match` is the version known here for
the token's subject is answered 304 without asking the owner — after the gateway's own checks of the token
(signature, expiry, ended session); what the member may see is still decided by the owner, on every answer that
carries a body.

Each version carries tags; an event forgets the versions of its tags. members' events about one member (created,
updated, transferred, position changed, erased, a change request or transfer decided) forget all that member's
versions; one it cannot attribute (an import, a rollout, a type it does not know) forgets them all. content's
forget the document lists of the audience's organisations; meetings' the meeting lists of the invitees and the
lists and meetings showing one of that organisation's meetings; one not understood forgets the meeting lists and
meetings for everyone. The caller's own writes through this process forget theirs (service.py). The events come
on queues of this process's own (shared/process_feed.py), so every replica hears every change; nothing is trusted
while a feed is disconnected, everything is forgotten when it connects again (changes may have been missed), and
no version is trusted longer than `trust` seconds whatever happens. An answer still on its way when one of its
tags changed is not learnt (`mark`).
"""

import logging
import time
import uuid
from collections import OrderedDict

from kombu import binding
from nameko.extensions import DependencyProvider

from shared import config, metrics
from shared.events import check_envelope
from shared.process_feed import ProcessFeed
from shared.topology import events_exchange, process_queue

log = logging.getLogger(__name__)

SOURCE = "members"
# members' events about one member (payload `member_id`): only that member's version is forgotten
ONE_MEMBER = frozenset(
    f"{SOURCE}.{name}"
    for name in (
        "member_created",
        "member_updated",
        "member_transferred",
        "position_changed",
        "member_erased",
        "change_request_decided",
        "transfer_issued",
    )
)


class KnownVersions:
    """{key → (version, asked at, trusted until, tags)}, oldest first, at most LIMIT of them.

    A key is a member id (their record, `GET /me`), (member id, list, normalised query) for a list of theirs or
    (member id, MEETING, meeting id) for a meeting as they see it. Its tags say which forgets reach it: the member
    id (their own writes, members' events about them), the list's name (an event that cannot be attributed), and
    what the owning service's events name (organisations, meetings)."""

    LIMIT = 100_000  # at most ~30 MB of records (0.3 KB each), ~65 MB of lists (0.65 KB); oldest learnt go first
    PRUNE_EVERY = 10.0

    def __init__(self, trust=60.0, clock=time.monotonic, feeds=("members",)):
        self.trust = trust
        self._clock = clock
        self._feeds = frozenset(feeds)  # every one must be consuming for anything to be trusted
        self._connected = set()
        self._known = OrderedDict()  # key → (version, asked at, trusted until or None, tags)
        self._lists_of = {}  # member id → [their lists' and meetings' keys] (their record's key is their id)
        self._tagged = {}  # tag → {key}
        self._tags = {}  # one object per tag, shared by every version carrying it
        self._changes = 0  # every forget counts one
        self._forgotten = {}  # member id or tag → (change count, when): what answers on their way must not undo
        self._all_forgotten = 0
        self._pruned_at = clock()

    @property
    def ready(self):
        """Every feed is consuming: changes are heard."""
        return self._connected >= self._feeds

    def current(self, key):
        """The version to answer 304 for, or None (unknown, untrusted, or a feed is away)."""
        entry = self._known.get(key) if self.ready else None
        if entry is None:
            return None
        now = self._clock()
        if now - entry[1] > self.trust or (entry[2] is not None and now >= entry[2]):
            return None
        return entry[0]

    def mark(self):
        """Taken before the owning service is asked: its answer is learnt only if nothing it shows changed since."""
        return self._changes, self._clock()

    def learn(self, key, version, mark, tags=(), holds_for=None):
        """`tags`: what may change the answer besides its member (key's first part); `holds_for`: the seconds the
        answer stays true by itself from when it was asked (the clock moves it), None for as long as `trust`."""
        changes, asked_at = mark
        member = _member_of(key)
        newest = max((self._forgotten.get(tag, (0, 0.0))[0] for tag in (member, *tags)), default=0)
        if not self.ready or changes < max(newest, self._all_forgotten) or self._clock() - asked_at > self.trust:
            return
        if holds_for is not None and holds_for <= 0:
            return
        self._drop(key)
        until = None if holds_for is None else asked_at + holds_for
        tags = tuple(self._tags.setdefault(tag, tag) for tag in tags)
        self._known[key] = (version, asked_at, until, tags)  # trusted from when it was asked, not when it came
        if key != member:
            self._lists_of.setdefault(member, []).append(key)
        for tag in tags:
            self._tagged.setdefault(tag, set()).add(key)
        while len(self._known) > self.LIMIT:
            self._drop(next(iter(self._known)))

    def forget(self, tag):
        """Every version a change of `tag` may touch: a member id (all of theirs), a list's name, an event's tag."""
        self._changes += 1
        if isinstance(tag, int):
            for key in (tag, *self._lists_of.get(tag, ())):
                self._drop(key)
        else:
            for key in self._tagged.pop(tag, ()):
                self._drop(key)
        self._forgotten[tag] = (self._changes, self._clock())
        self._prune_now_and_then()

    def forget_all(self):
        self._changes += 1
        self._all_forgotten = self._changes
        self._known.clear()
        self._lists_of.clear()
        self._tagged.clear()
        self._tags.clear()
        self._forgotten.clear()

    def connected(self, feed="members"):
        self.forget_all()  # whatever was learnt before may have changed unheard
        self._connected.add(feed)

    def lost(self, feed="members"):
        self._connected.discard(feed)
        self.forget_all()

    def prune(self):
        """Drop versions no longer trusted, and forgets older than any answer still allowed to be learnt."""
        now = self._pruned_at = self._clock()
        for key, (_, asked_at, _, _) in list(self._known.items()):
            if now - asked_at <= self.trust:
                break  # learnt in order: the rest are younger
            self._drop(key)
        for tag in [t for t, (_, at) in self._forgotten.items() if now - at > self.trust]:
            del self._forgotten[tag]
        for tag in [t for t in self._tags if t not in self._tagged]:
            del self._tags[tag]

    def _drop(self, key):
        entry = self._known.pop(key, None)
        if entry is None:
            return
        for tag in entry[3]:
            keys = self._tagged.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tagged[tag]
        member = _member_of(key)
        if key != member:
            keys = self._lists_of[member]
            keys.remove(key)
            if not keys:
                del self._lists_of[member]

    def _prune_now_and_then(self):
        if self._clock() - self._pruned_at > self.PRUNE_EVERY:  # a busy feed is never idle long enough
            self.prune()

    def __len__(self):
        return len(self._known)


def _member_of(key):
    return key[0] if isinstance(key, tuple) else key


def changes_queue(service):
    """This process's queue of every members event; a fresh name per connection (the last one went with it)."""
    return process_queue(
        f"evt-{SOURCE}-changes--{service}.live-{uuid.uuid4().hex[:12]}",
        [binding(events_exchange(SOURCE), routing_key="#")],
    )


class VersionsFeed(ProcessFeed):
    """A feed of events that forget versions: nothing is trusted while it is away (KnownVersions.ready)."""

    feed = None  # its name in KnownVersions

    def __init__(self, service, amqp_uri, known, retry_interval=1.0, heartbeat=10):
        super().__init__(amqp_uri, retry_interval, heartbeat)
        self.service = service
        self.known = known

    def connected(self):
        self.known.connected(self.feed)

    def lost(self):
        self.known.lost(self.feed)

    def idle(self):
        self.known.prune()


class MemberChangesFeed(VersionsFeed):
    name = "member changes feed"
    feed = SOURCE

    def queue(self):
        return changes_queue(self.service)

    def tick(self):
        metrics.KNOWN_VERSIONS.labels(self.service).set(len(self.known))

    def on_event(self, body):
        member_id = None
        try:
            if check_envelope(body):
                raise ValueError("not an event envelope")
            if body["type"] in ONE_MEMBER:
                member_id = body["payload"]["member_id"]
                if not isinstance(member_id, int) or isinstance(member_id, bool):
                    raise ValueError("member_id is not an integer")
        except Exception as exc:  # only members may publish there (broker permissions): a bug, not an attack
            log.error("a malformed members event (%s): every member version forgotten", type(exc).__name__)
            member_id = None
        if member_id is None:
            self.known.forget_all()
        else:
            self.known.forget(member_id)


# The lists answered conditionally, by the service that owns each and the exchange its changes come on
DOCUMENTS, MEETINGS = "documents", "meetings"
MEETING = "meeting"  # one meeting's key (member id, MEETING, meeting id); tagged MEETINGS, forgotten with the lists
LIST_SOURCES = {"content": DOCUMENTS, "meetings": MEETINGS}
LISTS = "lists"  # the feed's name (KnownVersions.connected)


def list_changes_queue(service):
    """This process's queue of content's and meetings' events (a fresh name per connection)."""
    return process_queue(
        f"evt-{LISTS}-changes--{service}.live-{uuid.uuid4().hex[:12]}",
        [binding(events_exchange(source), routing_key="#") for source in LIST_SOURCES],
    )


def list_tags(body):
    """What an event of content or meetings may change in a member's list, as the tags KnownVersions forgets:
    the audience's organisations (a document list shows what is addressed to the member's organisation or one
    above: `("organization", id)`), a meeting's invitees (their member ids: it may enter or leave their list) and
    the meeting's organisation (`("meetings of", id)`: the lists showing one of its meetings). Raises on
    what it cannot read."""
    if check_envelope(body):
        raise ValueError("not an event envelope")
    kind, payload = body["type"], body["payload"]
    if kind in ("content.document_published", "content.document_withdrawn", "content.document_changed"):
        return [("organization", _integer(item["organization_id"])) for item in payload["audience"]]
    if kind == "content.reader_moved":
        return [_integer(payload["member_id"])]  # all that member's versions
    if kind == "meetings.absences_flagged" or kind == "meetings.vote_closed":
        return []  # nothing a list shows
    if kind.startswith("meetings."):
        tags = [("meetings of", _integer(payload["organization_id"]))]
        # a meeting's invitees: theirs (all of a member's: their record and documents too, rather than a tag each)
        if kind == "meetings.meeting_updated":  # an invitation made or taken away: that member's list
            tags += [_integer(member_id) for member_id in payload.get("member_ids", ())]
        elif kind != "meetings.member_checked_in":
            tags += [_integer(member_id) for member_id in payload["invitees"]]
        return tags
    raise ValueError(f"an event type not known here: {kind}")


def _integer(value):
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


class ListChangesFeed(VersionsFeed):
    """content's and meetings' events, forgetting the list versions each may change (KnownVersions)."""

    name = "list changes feed"
    feed = LISTS

    def queue(self):
        return list_changes_queue(self.service)

    def on_event(self, body):
        try:
            tags = list_tags(body)
        except Exception as exc:  # only content and meetings may publish there: a bug, or a type new to us
            source = str(body.get("type", "")).split(".")[0] if isinstance(body, dict) else ""
            log.error("an event not understood here (%s): every %s list forgotten", type(exc).__name__, source)
            tags = [LIST_SOURCES[source]] if source in LIST_SOURCES else None
        if tags is None:
            self.known.forget_all()
        for tag in tags or ():
            self.known.forget(tag)


class MemberVersions(DependencyProvider):
    """`self.versions`: this process's KnownVersions (GET /me, a member's document and meeting lists), kept current
    by its own feeds of members', content's and meetings' events."""

    def setup(self):
        self.known = KnownVersions(trust=float(config.get("MEMBER_VERSION_TRUST_SECONDS", 60)), feeds=(SOURCE, LISTS))
        retry = float(config.get("ENDED_SESSIONS_RETRY_INTERVAL", 1.0))
        name, uri = self.container.service_name, config.amqp_uri()
        self.feeds = [
            MemberChangesFeed(name, uri, self.known, retry_interval=retry),
            ListChangesFeed(name, uri, self.known, retry_interval=retry),
        ]

    def start(self):
        for feed in self.feeds:
            self.container.spawn_managed_thread(feed.run, identifier=feed.name)

    def stop(self):
        for feed in self.feeds:
            feed.stop()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.known

    def process_queues(self):
        """The queues this provider declares and consumes (deploy/rabbitmq: the broker user's permissions)."""
        return [changes_queue(self.container.service_name), list_changes_queue(self.container.service_name)]
