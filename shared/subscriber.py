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
"""

import logging
import time

from nameko.amqp.publish import get_producer
from nameko.messaging import Consumer

from shared import metrics
from shared.errors import is_outage
from shared.events import check_envelope
from shared.topology import Subscription, declare, retry_delays, retry_for

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-sotay-attempt"
ERROR_HEADER = "x-sotay-error"
FIRST_FAILED_HEADER = "x-sotay-first-failed"  # epoch seconds of the delivery's first failure
RETRY_HEADERS = (ATTEMPT_HEADER, FIRST_FAILED_HEADER)  # forgotten when an operator replays it


class EventSubscriber(Consumer):
    def __init__(self, source_service, event_type, **kwargs):
        self.source_service = source_service
        self.event_type = event_type
        self.subscription = None
        self.delays = ()
        self.retry_for = 0.0
        kwargs.setdefault("on_decode_error", None)
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
        errors = check_envelope(body)
        if errors:
            # a malformed envelope will never succeed: park it at once
            self._park(message, f"malformed envelope: {sorted(errors)}", attempt=0)
            return
        super().handle_message(body, message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if not message.channel.connection:
            # stopping: the broker took the delivery back when the channel closed and hands it to the next
            # consumer; a retry copy now would make two
            log.info("%s finished after its channel closed; the broker redelivers the event", self.handler_name)
            return
        if exc_info is None:
            metrics.EVENTS_HANDLED.labels(self.handler_name, "ok").inc()
            self.consumer.ack_message(message)
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
            self.consumer.requeue_message(message)
            return
        self.consumer.ack_message(message)


subscribe = EventSubscriber.decorator
