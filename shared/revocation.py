"""Ended sign-in sessions: the short set every service checks before it accepts an access token.

An access token lives 15 minutes; a session can end sooner (logout, a revoked session, refresh-token
reuse, a password change or reset, leaving the party). Identity records each end and publishes
`identity.sessions_ended {session_ids, until}`; every service process keeps {session id →
until} in memory, so the check on every call is one dict lookup.

The set is fed by a queue of this process's own (exclusive, auto-delete, bound to `identity.events`,
shared/process_feed.py): every replica must see every end, which the shared competing-consumer queues of
`@subscribe` would not give it. Before it accepts any token, and again after every reconnection (ends may
have been missed meanwhile), the process restores the set from identity (`identity.ended_sessions`); until
then it answers 503 rather than accept a token that may have been revoked.
"""

import logging
import time
import uuid
from datetime import datetime

from shared import metrics
from shared.contracts.identity import SESSIONS_ENDED as EVENT_TYPE
from shared.errors import InvalidToken, ServiceUnavailable
from shared.events import check_envelope, producer_of, validate_payload
from shared.process_feed import ProcessFeed
from shared.topology import Subscription

log = logging.getLogger(__name__)


def process_queue(service):
    """This process's queue of session ends; a fresh name per connection (the last one went with it)."""
    return Subscription(producer_of(EVENT_TYPE), EVENT_TYPE, service, f"live-{uuid.uuid4().hex[:12]}").process_queue()


def _timestamp(value):
    return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else float(value)


class EndedSessions:
    """{session id → until (epoch seconds)}, and whether it is complete enough to trust."""

    PRUNE_EVERY = 60.0

    def __init__(self, clock=time.time):
        self._until = {}
        self._clock = clock
        self._pruned_at = clock()
        self.ready = False

    def end(self, session_ids, until):
        until = _timestamp(until)
        for session_id in session_ids:
            self._until[session_id] = max(until, self._until.get(session_id, 0.0))
        if self._clock() - self._pruned_at > self.PRUNE_EVERY:  # a busy feed is never idle long enough
            self.prune()

    def restore(self, items):
        """Merge identity's answer (`[{session_id, until}]`): ends heard meanwhile stay."""
        for item in items:
            self.end([item["session_id"]], item["until"])
        self.prune()
        self.ready = True

    def unready(self):
        self.ready = False

    def prune(self):
        now = self._pruned_at = self._clock()
        for session_id in [s for s, until in self._until.items() if until <= now]:
            del self._until[session_id]

    def __len__(self):
        return len(self._until)

    def check(self, session_id):
        if not self.ready:
            raise ServiceUnavailable(details={"reason": "ended_sessions_not_restored"})
        until = self._until.get(session_id)
        if until is not None and until > self._clock():
            raise InvalidToken(details={"reason": "session_ended"})


class SessionEndsFeed(ProcessFeed):
    """Keeps an EndedSessions current: consumes this process's queue, restores through `restore()`
    (a function returning identity's list) when it starts and after every reconnection."""

    name = "ended sessions feed"

    def __init__(self, service, amqp_uri, ended, restore, retry_interval=1.0, heartbeat=10):
        super().__init__(amqp_uri, retry_interval, heartbeat)
        self.service = service
        self.ended = ended
        self.restore = restore
        self.next_restore = 0.0

    def queue(self):
        return process_queue(self.service)

    def connected(self):
        self.next_restore = 0.0  # bound before restoring: an end published meanwhile is in the queue, not lost

    def tick(self):
        if not self.ended.ready and time.monotonic() >= self.next_restore:
            self.next_restore = time.monotonic() + self.retry_interval
            self._restore()
        metrics.ENDED_SESSIONS.labels(self.service).set(len(self.ended))

    def idle(self):
        self.ended.prune()

    def lost(self):
        self.ended.unready()

    def _restore(self):
        try:
            self.ended.restore(self.restore()["items"])
        except Exception as exc:  # identity down: keep refusing tokens, try again shortly
            metrics.ENDED_SESSIONS_RESTORES.labels(self.service, "failed").inc()
            log.warning("could not restore ended sessions from identity (%s); retrying", type(exc).__name__)
            return
        metrics.ENDED_SESSIONS_RESTORES.labels(self.service, "ok").inc()

    def on_event(self, body):
        try:
            if check_envelope(body) or body["type"] != EVENT_TYPE:
                raise ValueError("not an identity.sessions_ended envelope")
            validate_payload(EVENT_TYPE, body["payload"])
        except Exception as exc:  # only identity may publish there (broker permissions): a bug, not an attack
            log.error("ignored a malformed session end (%s)", type(exc).__name__)
            return
        self.ended.end(body["payload"]["session_ids"], body["payload"]["until"])
