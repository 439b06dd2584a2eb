"""Conditional GET /me answered at the edge: {member id → the version of their record this process last relayed}.

members gives each `get_me` answer a version (a digest of what it shows) and publishes an event for every write
that changes a member. A `GET /me` whose `If-None-Match` is the version known here for the token's subject is
answered 304 without asking members — after the gateway's own checks of the token (signature, expiry, ended
session); what the member may see is still decided by members, on every answer that carries a body.

A version is forgotten when members says its member changed (member created, updated, transferred, position
changed, erased, a change request or transfer decided); an event it cannot attribute to one member (an import, a
rollout, a type it does not know, a malformed one) forgets them all. The events come on a queue of this process's
own (shared/process_feed.py), so every replica hears every change; nothing is trusted while it is disconnected,
everything is forgotten when it connects again (changes may have been missed), and no version is trusted longer
than `trust` seconds whatever happens. An answer still on its way when its member changed is not learnt (`mark`).
"""

import logging
import time
import uuid
from collections import OrderedDict

from kombu import Queue, binding
from nameko.extensions import DependencyProvider

from shared import config, metrics
from shared.events import check_envelope
from shared.process_feed import ProcessFeed
from shared.topology import events_exchange

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
    """{member id → (version, asked at)}, oldest first, at most LIMIT of them."""

    LIMIT = 100_000  # ~20 MB at most; the least recently learnt go first
    PRUNE_EVERY = 10.0

    def __init__(self, trust=60.0, clock=time.monotonic):
        self.trust = trust
        self.ready = False  # the feed is consuming: changes are heard
        self._clock = clock
        self._known = OrderedDict()
        self._changes = 0  # every forget counts one
        self._forgotten = {}  # member id → (change count, when): what answers on their way must not undo
        self._all_forgotten = 0
        self._pruned_at = clock()

    def current(self, member_id):
        """The version to answer 304 for, or None (unknown, untrusted, or the feed is away)."""
        entry = self._known.get(member_id) if self.ready else None
        if entry is None or self._clock() - entry[1] > self.trust:
            return None
        return entry[0]

    def mark(self):
        """Taken before members is asked: its answer is learnt only if nothing about the member changed since."""
        return self._changes, self._clock()

    def learn(self, member_id, version, mark):
        changes, asked_at = mark
        forgotten, _ = self._forgotten.get(member_id, (0, 0.0))
        if not self.ready or changes < max(forgotten, self._all_forgotten) or self._clock() - asked_at > self.trust:
            return
        self._known.pop(member_id, None)
        self._known[member_id] = (version, asked_at)  # trusted from when it was asked, not when it came
        while len(self._known) > self.LIMIT:
            self._known.popitem(last=False)

    def forget(self, member_id):
        self._changes += 1
        self._known.pop(member_id, None)
        self._forgotten[member_id] = (self._changes, self._clock())
        self._prune_now_and_then()

    def forget_all(self):
        self._changes += 1
        self._all_forgotten = self._changes
        self._known.clear()
        self._forgotten.clear()

    def connected(self):
        self.forget_all()  # whatever was learnt before may have changed unheard
        self.ready = True

    def lost(self):
        self.ready = False
        self.forget_all()

    def prune(self):
        """Drop versions no longer trusted, and forgets older than any answer still allowed to be learnt."""
        now = self._pruned_at = self._clock()
        for member_id, (_, asked_at) in list(self._known.items()):
            if now - asked_at <= self.trust:
                break  # learnt in order: the rest are younger
            del self._known[member_id]
        for member_id in [m for m, (_, at) in self._forgotten.items() if now - at > self.trust]:
            del self._forgotten[member_id]

    def _prune_now_and_then(self):
        if self._clock() - self._pruned_at > self.PRUNE_EVERY:  # a busy feed is never idle long enough
            self.prune()

    def __len__(self):
        return len(self._known)


def changes_queue(service):
    """This process's queue of every members event; a fresh name per connection (the last one went with it)."""
    return Queue(
        f"evt-{SOURCE}-changes--{service}.live-{uuid.uuid4().hex[:12]}",
        bindings=[binding(events_exchange(SOURCE), routing_key="#")],
        durable=False,
        exclusive=True,
        auto_delete=True,
        queue_arguments={"x-queue-type": "classic"},
    )


class MemberChangesFeed(ProcessFeed):
    name = "member changes feed"

    def __init__(self, service, amqp_uri, known, retry_interval=1.0, heartbeat=10):
        super().__init__(amqp_uri, retry_interval, heartbeat)
        self.service = service
        self.known = known

    def queue(self):
        return changes_queue(self.service)

    def connected(self):
        self.known.connected()

    def lost(self):
        self.known.lost()

    def idle(self):
        self.known.prune()

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


class MemberVersions(DependencyProvider):
    """`self.versions`: this process's KnownVersions, kept current by its own feed of members' events."""

    def setup(self):
        self.known = KnownVersions(trust=float(config.get("MEMBER_VERSION_TRUST_SECONDS", 60)))
        self.feed = MemberChangesFeed(
            self.container.service_name,
            config.amqp_uri(),
            self.known,
            retry_interval=float(config.get("ENDED_SESSIONS_RETRY_INTERVAL", 1.0)),
        )

    def start(self):
        self.container.spawn_managed_thread(self.feed.run, identifier="member changes feed")

    def stop(self):
        self.feed.stop()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.known

    def process_queue(self):
        """The queue this provider declares and consumes (deploy/rabbitmq: the broker user's permissions)."""
        return changes_queue(self.container.service_name)
