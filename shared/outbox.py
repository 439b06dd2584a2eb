"""The outbox relay: publishes committed event rows, then marks them sent.

Rows are written by `UnitOfWork.publish` in the domain transaction. The relay
publishes them in commit order with publisher confirms, to the producer's
events exchange, and marks them sent; a failed publish leaves the row pending
with `attempts`, `last_error` and a back-off time, and the batch stops there
so later events never overtake an earlier one. A crash between publish and
mark means a second publish of the same event id, which idempotent handlers
absorb: at-least-once, never lost.
"""

import contextlib
import logging
import threading
from datetime import timedelta

from nameko.amqp.publish import get_producer
from sqlalchemy import func, select

from shared import metrics
from shared.db import utcnow
from shared.events import envelope
from shared.topology import declare, events_exchange, unrouted_entities

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0


class Relay:
    def __init__(self, engine, outbox, service, amqp_uri, writer=None, batch_size=500):
        self.engine = engine
        self.writer = writer or contextlib.nullcontext
        self.outbox = outbox
        self.service = service
        self.amqp_uri = amqp_uri
        self.batch_size = batch_size
        self.exchange = events_exchange(service)
        self._declared = False

    def _declare(self, producer):
        if not self._declared:
            declare(producer.connection, unrouted_entities() + [self.exchange])
            self._declared = True

    def relay_once(self):
        """Publish one batch of due rows; returns how many were published."""
        outbox = self.outbox
        now = utcnow()
        published = 0
        with self.writer(), self.engine.begin() as conn:
            query = (
                select(outbox)
                .where(outbox.c.state == "pending")
                .where((outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at <= now))
                .order_by(outbox.c.seq)
                .limit(self.batch_size)
            )
            if self.engine.dialect.name == "postgresql":
                # several replicas of a service may relay; each row goes to one of them
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).mappings().all()
            if not rows:
                return 0
            sent_ids = []
            failure = None
            try:
                with get_producer(self.amqp_uri, confirms=True) as producer:
                    self._declare(producer)
                    for row in rows:
                        producer.publish(
                            envelope(
                                row["type"],
                                row["payload"],
                                row["correlation_id"],
                                row["id"],
                                row["occurred_at"],
                                row["version"],
                            ),
                            exchange=self.exchange,
                            routing_key=row["type"],
                            serializer="json",
                            delivery_mode=2,
                            message_id=row["id"],
                            type=row["type"],
                            headers={"nameko.correlation_id": row["correlation_id"] or ""},
                            retry=True,
                            retry_policy={"max_retries": 2},
                        )
                        sent_ids.append(row["id"])
                        metrics.EVENTS_PUBLISHED.labels(self.service, row["type"]).inc()
            except Exception as exc:  # broker down, connection lost…
                failure = (rows[len(sent_ids)], exc)
            if sent_ids:
                conn.execute(outbox.update().where(outbox.c.id.in_(sent_ids)).values(state="sent", sent_at=utcnow()))
                published = len(sent_ids)
            if failure:
                row, exc = failure
                attempts = row["attempts"] + 1
                delay = min(MAX_BACKOFF, 0.5 * 2 ** min(attempts, 10))
                conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row["id"])
                    .values(
                        attempts=attempts,
                        last_error=f"{type(exc).__name__}: {exc}"[:500],
                        next_attempt_at=utcnow() + timedelta(seconds=delay),
                    )
                )
                metrics.OUTBOX_FAILURES.labels(self.service).inc()
                log.warning(
                    "outbox: publishing %s failed (attempt %d), retrying in %.1fs", row["type"], attempts, delay
                )
        return published

    def prune(self, older_than=timedelta(days=7), batch=5000):
        """Forget sent rows after a while (the broker and subscribers have them); pending rows stay."""
        outbox = self.outbox
        cutoff = utcnow() - older_than
        with self.writer(), self.engine.begin() as conn:
            ids = (
                conn.execute(
                    select(outbox.c.seq).where(outbox.c.state == "sent", outbox.c.sent_at < cutoff).limit(batch)
                )
                .scalars()
                .all()
            )
            if ids:
                conn.execute(outbox.delete().where(outbox.c.seq.in_(ids)))
        return len(ids)

    def pending_count(self):
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(self.outbox).where(self.outbox.c.state == "pending")
            ).scalar_one()

    def run(self, wake, stopped, interval=1.0):
        """Relay until `stopped` is set; `wake` is set after each commit with events."""
        passes = 0
        while not stopped.is_set():
            try:
                while self.relay_once() >= self.batch_size:
                    pass
                metrics.OUTBOX_PENDING.labels(self.service).set(self.pending_count())
                passes += 1
                if passes % 600 == 0:  # now and then, not on every pass
                    self.prune()
            except Exception:
                log.exception("outbox relay pass failed; retrying")
            wake.wait(interval)
            wake.clear()


class RelayRunner:
    """Runs a Relay in a thread (a green thread under eventlet) beside the service."""

    def __init__(self, relay, interval=1.0):
        self.relay = relay
        self.interval = interval
        self.wake = threading.Event()
        self.stopped = threading.Event()

    def nudge(self):
        self.wake.set()

    def start(self, spawn):
        spawn(lambda: self.relay.run(self.wake, self.stopped, self.interval))

    def stop(self):
        self.stopped.set()
        self.wake.set()
