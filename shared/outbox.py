"""The outbox relay: publishes committed event rows, then marks them sent.

Rows are written by `UnitOfWork.publish` in the domain transaction. The relay
publishes them in commit order with publisher confirms, to the producer's
events exchange, and marks them sent; a failed publish leaves the row pending
with `attempts`, `last_error` and a back-off time, and the batch stops there
so later events never overtake an earlier one. A crash between publish and
mark means a second publish of the same event id, which idempotent handlers
absorb: at-least-once, never lost.

A batch is published in one confirm round: every row of it goes out on a channel
in confirm mode, then the broker's acks (often one for many) are awaited
together, rather than one round trip per row. On SQLite the relay does not hold
the service's writer lock while it talks to the broker, only for the one UPDATE
that marks the confirmed rows sent: a burst of commands (check-ins) does not
queue behind the broker's confirms.

A burst of commits goes out in batches, not a pass per commit: woken by a commit, the relay gathers for a few
milliseconds (`gather`, or until `enough` commits have nudged it) before its pass, and a pass's statements are built
once. The pending gauge is counted on the poll interval, not on every pass.
"""

import contextlib
import logging
import socket
import threading
import time
from datetime import timedelta

from kombu import Connection, Producer
from nameko.constants import DEFAULT_TRANSPORT_OPTIONS
from sqlalchemy import bindparam, func, select

from shared import metrics
from shared.db import utcnow
from shared.events import envelope
from shared.topology import declare, events_exchange, unrouted_entities

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
GATHER = 0.005  # seconds a nudged relay waits for more commits before its pass: an event is late by at most this
ENOUGH = 100  # commits that end the wait at once


class Confirmed:
    """One connection and channel in confirm mode, kept between batches: `publish(messages)` sends every message
    without waiting, then waits for the broker's acks together (often one ack for many). Returns how many of the
    messages, from the first, the broker confirmed, and the error that stopped the rest (None when all were)."""

    TIMEOUT = 30.0

    def __init__(self, amqp_uri, entities):
        self.amqp_uri = amqp_uri
        self.entities = entities
        self.connection = None

    def _open(self):
        options = {k: v for k, v in DEFAULT_TRANSPORT_OPTIONS.items() if k != "confirm_publish"}
        connection = Connection(self.amqp_uri, transport_options=options)
        try:
            declare(connection, self.entities)
            channel = connection.channel()
            channel.confirm_select()
        except BaseException:
            connection.close()
            raise
        channel.events["basic_ack"].add(self._ack)
        channel.events["basic_nack"].add(self._nack)
        self.connection, self.producer = connection, Producer(channel)
        self.tag = self.acked = 0  # delivery tags count from 1 on a channel; acked: every tag up to it
        self.loose, self.refused = set(), False

    def _ack(self, tag, multiple):
        if multiple:
            self.acked = max(self.acked, tag)
        else:
            self.loose.add(tag)
        while self.acked + 1 in self.loose:
            self.acked += 1
        self.loose = {t for t in self.loose if t > self.acked}

    def _nack(self, tag, multiple):
        self.refused = True

    @contextlib.contextmanager
    def _corked(self):
        """The round's messages leave in full TCP segments (TCP_CORK until the last is written), not one segment
        per message: measured on a round of 500, the relay's CPU per event fell by a quarter and the broker's by
        a third (bench/README.md, events)."""
        sock = getattr(self.connection.connection.transport, "sock", None)
        cork = getattr(socket, "TCP_CORK", None)  # Linux
        if sock is None or cork is None:
            yield
            return
        sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):  # a lost connection: the round's own error says so
                sock.setsockopt(socket.IPPROTO_TCP, cork, 0)  # sends what is held

    def close(self):
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None

    def publish(self, messages):
        done, failure = 0, None
        for _ in (1, 2):  # a kept connection may have gone stale: once more on a fresh one
            confirmed, failure = self._publish(messages[done:])
            done += confirmed
            if failure is None:
                return done, None
            self.close()
        return done, failure

    def _publish(self, messages):
        """(how many of `messages`, from the first, the broker confirmed; the error that stopped the rest)."""
        before = self.tag if self.connection is not None else 0
        try:
            if self.connection is None:
                self._open()
            with self._corked():
                for body, options in messages:
                    self.producer.publish(body, **options)
                    self.tag += 1
            deadline = time.monotonic() + self.TIMEOUT
            while self.acked < self.tag and not self.refused:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the broker did not confirm the events in time")
                self.connection.drain_events(timeout=left)
            if self.refused:
                raise RuntimeError("the broker refused an event (nack)")
            return len(messages), None
        except Exception as exc:
            return max(0, self.acked - before) if self.connection is not None else 0, exc


DUE_COLUMNS = ("seq", "id", "type", "version", "payload", "occurred_at", "correlation_id", "attempts")


class Relay:
    def __init__(self, engine, outbox, service, amqp_uri, writer=None, batch_size=500):
        self.engine = engine
        self.writer = writer or contextlib.nullcontext
        self.outbox = outbox
        self.service = service
        self.amqp_uri = amqp_uri
        self.batch_size = batch_size
        self.exchange = events_exchange(service)
        self.confirmed = Confirmed(amqp_uri, unrouted_entities() + [self.exchange])
        self._turn = threading.Lock()  # one pass at a time in this process (a nudge and a timer may meet)
        # a pass's statements, built (and keyed for SQLAlchemy's cache) once: a burst runs many passes
        due = (
            select(*(outbox.c[name] for name in DUE_COLUMNS))
            .where(outbox.c.state == "pending")
            .where((outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at <= bindparam("now")))
            .order_by(outbox.c.seq)
            .limit(batch_size)
        )
        if engine.dialect.name == "postgresql":
            # several replicas of a service may relay; each row goes to one of them
            due = due.with_for_update(skip_locked=True)
        self._due_rows = due
        self._mark_sent = (
            outbox.update()
            .where(outbox.c.seq.in_(bindparam("seqs", expanding=True)))
            .values(state="sent", sent_at=bindparam("at"))
        )
        self._count_pending = select(func.count()).select_from(outbox).where(outbox.c.state == "pending")

    def _due(self, conn, now):
        return conn.execute(self._due_rows, {"now": now}).mappings().all()

    def relay_once(self):
        """Publish one batch of due rows; returns how many were published."""
        with self._turn:
            if self.engine.dialect.name == "postgresql":
                # the rows stay locked (SKIP LOCKED) from the read to the mark: another replica skips them
                with self.engine.begin() as conn:
                    rows = self._due(conn, utcnow())
                    return self._mark(conn, rows, *self._publish(rows)) if rows else 0
            # SQLite: one process, one relay (this lock); WAL reads beside the writer, and the writer lock is
            # taken only to mark what the broker confirmed
            with self.engine.connect() as conn:
                rows = self._due(conn, utcnow())
            if not rows:
                return 0
            outcome = self._publish(rows)
            with self.writer(), self.engine.begin() as conn:
                return self._mark(conn, rows, *outcome)

    def _publish(self, rows):
        messages = [
            (
                envelope(
                    row["type"], row["payload"], row["correlation_id"], row["id"], row["occurred_at"], row["version"]
                ),  # fmt: skip
                {
                    "exchange": self.exchange,
                    "routing_key": row["type"],
                    "serializer": "json",
                    "delivery_mode": 2,
                    "message_id": row["id"],
                    "type": row["type"],
                    "headers": {"nameko.correlation_id": row["correlation_id"] or ""},
                },
            )
            for row in rows
        ]
        return self.confirmed.publish(messages)

    def _mark(self, conn, rows, sent, exc):
        outbox = self.outbox
        if sent:
            conn.execute(self._mark_sent, {"seqs": [row["seq"] for row in rows[:sent]], "at": utcnow()})
            for row in rows[:sent]:
                metrics.EVENTS_PUBLISHED.labels(self.service, row["type"]).inc()
        if exc is not None:
            row = rows[sent]
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
            log.warning("outbox: publishing %s failed (attempt %d), retrying in %.1fs", row["type"], attempts, delay)
        return sent

    def close(self):
        self.confirmed.close()

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
            return conn.execute(self._count_pending).scalar_one()


class RelayRunner:
    """Runs a Relay in a thread (a green thread under eventlet) beside the service: a pass after each commit with
    events (gathering a burst's commits for up to `gather` seconds, or until `enough` of them), and one every
    `interval` seconds for what a nudge missed and for retries."""

    def __init__(self, relay, interval=1.0, gather=GATHER, enough=ENOUGH):
        self.relay = relay
        self.interval = interval
        self.gather = gather
        self.enough = enough
        self.wake = threading.Event()  # a commit with events (or stop)
        self.full = threading.Event()  # `enough` commits since the last pass: no point waiting longer
        self.nudges = 0
        self.passes = 0
        self.stopped = threading.Event()

    def nudge(self):
        self.nudges += 1
        if self.nudges >= self.enough:
            self.full.set()
        self.wake.set()

    def start(self, spawn):
        spawn(self.run)

    def run(self):
        """Relay until stopped."""
        relay, counted = self.relay, None
        while not self.stopped.is_set():
            try:
                while relay.relay_once() >= relay.batch_size:
                    pass
                self.passes += 1
                # the gauge once per interval: counted on every pass, it cost a burst's pass as much as its rows
                if counted is None or time.monotonic() - counted >= self.interval:
                    counted = time.monotonic()
                    metrics.OUTBOX_PENDING.labels(relay.service).set(relay.pending_count())
                if self.passes % 600 == 0:  # now and then, not on every pass
                    relay.prune()
            except Exception:
                log.exception("outbox relay pass failed; retrying")
            if self.wake.wait(self.interval) and not self.stopped.is_set():
                self.full.wait(self.gather)
            # cleared before the pass reads: a commit nudging from here on wakes the next pass
            self.wake.clear()
            self.full.clear()
            self.nudges = 0
        relay.close()  # here, not in stop(): closing under a pass would fail its batch for nothing

    def stop(self):
        self.stopped.set()
        self.wake.set()
