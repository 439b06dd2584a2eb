"""`@subscribe(source, event_type)`: a reliable event handler entrypoint.

Unlike nameko's `event_handler`, a delivery whose handler raises is not
acked-and-forgotten: it is republished (with publisher confirms) to the
subscription's retry queue for a back-off delay (the short ladder). After the
last of those, a delivery that failed because something else is down
(`errors.is_outage`: another service, the broker, the database) keeps waiting
on the outage queue and trying again until EVENT_RETRY_FOR has passed since it
first failed; any other is parked on its dead-letter queue with the error, for
an operator to inspect, replay or discard (`python -m shared.cli dlq …`). The
original is acked only after that republish is confirmed; if the republish
fails it is requeued instead.

`@subscribe(source, event_type, batch=N)` hands the handler a list of up to N envelopes instead of one: it
consumes with a prefetch of 2N, gathers deliveries for up to `gather` seconds (or until N have come), runs the
handler once for them (which applies them in one transaction with their claims: `UnitOfWork.once_each`), then
acks them, with one multiple ack when nothing earlier on the channel is still being handled. A batch whose
handler raises is handled again one delivery at a time (a list of one each), so a poison event goes down the
ladder above alone and the others commit. A crash between the commit and the ack redelivers the batch; the
claims absorb the repeat.
"""

import contextlib
import logging
import time
from functools import partial

from amqp.exceptions import ConnectionError
from nameko.amqp.publish import get_producer
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, decode_from_headers

from shared import metrics
from shared.errors import is_outage
from shared.events import check_envelope
from shared.topology import Subscription, declare, retry_delays, retry_for

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-sotay-attempt"
ERROR_HEADER = "x-sotay-error"
FIRST_FAILED_HEADER = "x-sotay-first-failed"  # epoch seconds of the delivery's first failure
RETRY_HEADERS = (ATTEMPT_HEADER, FIRST_FAILED_HEADER)  # forgotten when an operator replays it


GATHER = 0.05  # seconds a batching subscriber waits for a batch to fill: an event is late by at most this
# the batch of a service's handler that takes bursts: it holds SQLite's writer for as many effects as a re-read's
# commit (shared/projection.py), so reads and commands still get their turn
BURST = 100


class EventSubscriber(Consumer):
    def __init__(self, source_service, event_type, batch=None, gather=GATHER, **kwargs):
        self.source_service = source_service
        self.event_type = event_type
        self.subscription = None
        self.delays = ()
        self.retry_for = 0.0
        self.batch = batch
        self.gather = gather
        self._gathered = []  # (body, message) waiting for the batch to fill
        self._round = 0  # batches handed out: a timer flushes only the batch it was started for
        self._unfinished = {}  # channel → delivery tags received and not yet acked, requeued or moved
        kwargs.setdefault("on_decode_error", None)
        if batch:
            # the next batch gathers while one is handled
            kwargs.setdefault("prefetch_count", 2 * batch)
        super().__init__(queue=None, requeue_on_error=False, **kwargs)

    def setup(self):
        self.subscription = Subscription(
            self.source_service, self.event_type, self.container.service_name, self.method_name
        )
        self.delays = retry_delays()
        self.retry_for = retry_for()
        self.queue = self.subscription.main_queue()
        self.consumer_options["on_decode_error"] = self._on_decode_error
        with get_producer(self.amqp_uri) as producer:
            declare(producer.connection, self.subscription.entities())
        super().setup()

    @property
    def handler_name(self):
        return f"{self.container.service_name}.{self.method_name}"

    def handle_message(self, body, message):
        self._received(message)
        errors = check_envelope(body)
        if errors:
            # a malformed envelope will never succeed: park it at once
            self._park(message, f"malformed envelope: {sorted(errors)}", attempt=0)
            return
        if self.batch:
            self._gather(body, message)
            return
        super().handle_message(body, message)

    # --- batches (consumer and timer run as green threads: no lock needed between them) --------------------

    def _gather(self, body, message):
        self._gathered.append((body, message))
        if len(self._gathered) >= self.batch:
            self._flush()
        elif len(self._gathered) == 1:
            self.container.spawn_managed_thread(
                partial(self._flush_after, self._round), identifier=f"{self.handler_name}.gather"
            )

    def _flush_after(self, round_):
        time.sleep(self.gather)
        if self._round == round_:
            self._flush()

    def _flush(self):
        self._round += 1
        gathered, self._gathered = self._gathered, []
        if gathered:
            self._spawn(gathered)

    def _spawn(self, deliveries):
        """One worker for `deliveries` (the handler gets their envelopes as a list)."""
        bodies = [body for body, _ in deliveries]
        messages = [message for _, message in deliveries]
        # a batch mixes callers: only a lone delivery keeps its caller's context (correlation id)
        context_data = decode_from_headers(messages[0].headers or {}) if len(messages) == 1 else {}

        def spawn_worker():
            try:
                self.container.spawn_worker(
                    self,
                    (bodies,),
                    {},
                    context_data=context_data,
                    handle_result=partial(self._batch_handled, deliveries),
                )
            except ContainerBeingKilled:
                for message in messages:
                    self._requeue(message)

        self.container.spawn_managed_thread(spawn_worker, identifier=f"{self.handler_name}.wait_for_worker_pool")

    def _batch_handled(self, deliveries, worker_ctx, result=None, exc_info=None):
        messages = [message for _, message in deliveries]
        if len(messages) == 1:
            self.handle_message_processed(messages[0], result, exc_info)
        elif not all(message.channel.connection for message in messages):
            # stopping: as for one delivery below, the broker redelivers what it took back
            log.info("%s finished a batch after its channel closed; the broker redelivers it", self.handler_name)
            for message in messages:
                self._unfinished.pop(message.channel, None)
        elif exc_info is None:
            metrics.EVENTS_HANDLED.labels(self.handler_name, "ok").inc(len(messages))
            self._ack_all(messages)
        else:
            log.warning(
                "%s: a batch of %d failed (%s: %s); handling its events one at a time",
                self.handler_name,
                len(messages),
                exc_info[0].__name__,
                exc_info[1],
            )
            for delivery in deliveries:
                self._spawn([delivery])
        return result, exc_info

    def _ack_all(self, messages):
        """Ack `messages` (in delivery order): one multiple ack per channel when no earlier delivery on it is
        still being handled (a multiple ack would take it too), else one by one."""
        by_channel = {}
        for message in messages:
            by_channel.setdefault(message.channel, []).append(message)
        for channel, own in by_channel.items():
            unfinished = self._unfinished.get(channel, set())
            unfinished.difference_update(m.delivery_tag for m in own)
            last = own[-1]
            if not unfinished or min(unfinished) > last.delivery_tag:
                if channel.connection:
                    with contextlib.suppress(ConnectionError):  # closing under us: the broker takes them back
                        last.ack(multiple=True)
            else:
                for message in own:
                    self.consumer.ack_message(message)

    def _received(self, message):
        if self.batch:  # until it is settled, a batch's multiple ack must not take it
            self._unfinished.setdefault(message.channel, set()).add(message.delivery_tag)

    def _settled(self, message):
        tags = self._unfinished.get(message.channel)
        if tags is not None:
            tags.discard(message.delivery_tag)

    def _ack(self, message):
        self._settled(message)
        self.consumer.ack_message(message)

    def _requeue(self, message):
        self._settled(message)
        self.consumer.requeue_message(message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if not message.channel.connection:
            # stopping: the broker took the delivery back when the channel closed and hands it to the next
            # consumer; a retry copy now would make two
            log.info("%s finished after its channel closed; the broker redelivers the event", self.handler_name)
            self._unfinished.pop(message.channel, None)  # a closed channel's tags mean nothing any more
            return
        if exc_info is None:
            metrics.EVENTS_HANDLED.labels(self.handler_name, "ok").inc()
            self._ack(message)
            return
        headers = message.headers or {}
        attempt = int(headers.get(ATTEMPT_HEADER, 0)) + 1
        error = f"{exc_info[0].__name__}: {exc_info[1]}"[:500]
        failing_for = time.time() - float(headers.get(FIRST_FAILED_HEADER) or time.time())
        if attempt <= len(self.delays):
            metrics.EVENTS_HANDLED.labels(self.handler_name, "retried").inc()
            self._republish(message, self.subscription.retry_queue_name(attempt), attempt, error)
        elif is_outage(exc_info[1]) and failing_for < self.retry_for:
            metrics.EVENTS_HANDLED.labels(self.handler_name, "waiting_for_dependency").inc()
            if attempt == len(self.delays) + 1:  # once per delivery, not every few minutes
                log.warning("%s waits for a dependency to come back: %s", self.handler_name, error)
            self._republish(message, self.subscription.outage_queue_name, attempt, error)
        else:
            self._park(message, error, attempt)

    def _on_decode_error(self, message, exc):
        self._received(message)
        self._park(message, f"undecodable body: {type(exc).__name__}", attempt=0)

    def _park(self, message, error, attempt):
        metrics.EVENTS_HANDLED.labels(self.handler_name, "dead_lettered").inc()
        metrics.EVENTS_DEAD_LETTERED.labels(self.handler_name).inc()
        log.error("event parked on %s after %d attempt(s): %s", self.subscription.dlq_name, attempt, error)
        self._republish(message, self.subscription.dlq_name, attempt, error)

    def _republish(self, message, queue_name, attempt, error):
        headers = dict(message.headers or {})
        headers[ATTEMPT_HEADER] = attempt
        headers[ERROR_HEADER] = error
        headers.setdefault(FIRST_FAILED_HEADER, int(time.time()))
        try:
            with get_producer(self.amqp_uri, confirms=True) as producer:
                producer.publish(
                    message.body,
                    exchange=self.subscription.redelivery.name,
                    routing_key=queue_name,
                    headers=headers,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    delivery_mode=2,
                    message_id=message.properties.get("message_id"),
                    type=message.properties.get("type"),
                    retry=True,
                )
        except Exception:
            log.exception("could not move a failed delivery to %s; requeueing it", queue_name)
            self._requeue(message)
            return
        self._ack(message)


subscribe = EventSubscriber.decorator
