"""RabbitMQ topology: event exchanges, subscriber queues, retries and parking.

For a subscription (source service, event type) → (service, handler method):
  <source>.events  topic exchange, alternate exchange `sotay.unrouted` (nothing dropped silently)
  evt-<source>-<event_type>--<service>.<method>           the handler's durable queue
  …backoff.1 … backoff.N  hold a failed delivery for a back-off delay, then dead-letter it
                       back to the handler's queue (and only that queue): the short ladder, for any failure
  …backoff.outage      holds a delivery that failed because something else is down (another service, the
                       broker, the database) for EVENT_OUTAGE_RETRY_DELAY, again and again until
                       EVENT_RETRY_FOR has passed since its first failure: an outage heals by itself
  …dlq                 parked deliveries that can never succeed: malformed, or failing the short ladder
                       for another reason, or an outage longer than EVENT_RETRY_FOR (inspect, replay, discard)
  <service>.redelivery  direct exchange, the consuming service's own: a failed delivery moves to
                       a back-off queue or the dlq through it, and comes back through it. Not the
                       default exchange, whose write permission would let a service put a forged
                       event into any other service's queue.
A process queue (`Subscription.process_queue`, e.g. ended sessions) is exclusive to one
process and goes with it: every replica sees every event, nothing waits while it is down.
Subscriber queues are declared when a service is prepared (before it first
runs), so events published while it is down wait for it.
"""

import inspect
from dataclasses import dataclass

from kombu import Exchange, Queue, binding

from shared import config

UNROUTED = "sotay.unrouted"
DEFAULT_RETRY_DELAYS = (1.0, 5.0, 30.0)
DEFAULT_OUTAGE_RETRY_DELAY = 300.0  # 5 min between tries while a dependency is down
DEFAULT_RETRY_FOR = 24 * 3600.0  # a day of outage before a delivery waits for an operator


def retry_delays():
    raw = config.get("EVENT_RETRY_DELAYS")
    if not raw:
        return DEFAULT_RETRY_DELAYS
    if isinstance(raw, (list, tuple)):
        return tuple(float(value) for value in raw)
    return tuple(float(value) for value in str(raw).split(","))


def outage_retry_delay():
    return float(config.get("EVENT_OUTAGE_RETRY_DELAY") or DEFAULT_OUTAGE_RETRY_DELAY)


def retry_for():
    return float(config.get("EVENT_RETRY_FOR") or DEFAULT_RETRY_FOR)


def events_exchange(service):
    return Exchange(f"{service}.events", type="topic", durable=True, arguments={"alternate-exchange": UNROUTED})


def redelivery_exchange(service):
    return Exchange(f"{service}.redelivery", type="direct", durable=True)


def unrouted_entities():
    exchange = Exchange(UNROUTED, type="fanout", durable=True)
    return [exchange, Queue(UNROUTED, exchange=exchange, durable=True, queue_arguments=_type_args())]


def _type_args():
    return {"x-queue-type": config.queue_type()}


def process_queue(name, bindings):
    """A queue of one process alone (every replica gets every event), gone with its connection: exclusive, and
    classic whatever the default type (a quorum queue can be neither exclusive nor auto-deleted)."""
    return Queue(
        name,
        bindings=bindings,
        durable=False,
        exclusive=True,
        auto_delete=True,
        queue_arguments={"x-queue-type": "classic"},
    )


@dataclass(frozen=True)
class Subscription:
    source: str  # producing service
    event_type: str  # full type, e.g. "members.member_created" (the routing key)
    service: str  # consuming service
    method: str  # handler method

    @property
    def queue_name(self):
        short = self.event_type.split(".", 1)[-1]
        return f"evt-{self.source}-{short}--{self.service}.{self.method}"

    def retry_queue_name(self, attempt):
        return f"{self.queue_name}.backoff.{attempt}"

    @property
    def outage_queue_name(self):
        return f"{self.queue_name}.backoff.outage"

    @property
    def dlq_name(self):
        return f"{self.queue_name}.dlq"

    @property
    def redelivery(self):
        return redelivery_exchange(self.service)

    def _own(self, name, **arguments):
        """A queue of this handler's that its service's redelivery exchange reaches by the queue's name."""
        return Queue(
            name,
            exchange=self.redelivery,
            routing_key=name,
            durable=True,
            queue_arguments={**_type_args(), **arguments},
        )

    def main_queue(self):
        return Queue(
            self.queue_name,
            durable=True,
            queue_arguments=_type_args(),
            bindings=[
                binding(events_exchange(self.source), routing_key=self.event_type),
                binding(self.redelivery, routing_key=self.queue_name),
            ],
        )

    def process_queue(self):
        return process_queue(self.queue_name, [binding(events_exchange(self.source), routing_key=self.event_type)])

    def entities(self):
        entities = [events_exchange(self.source), self.redelivery, self.main_queue()]
        waits = [(self.retry_queue_name(attempt), delay) for attempt, delay in enumerate(retry_delays(), start=1)]
        for name, delay in waits + [(self.outage_queue_name, outage_retry_delay())]:
            entities.append(
                self._own(
                    name,
                    **{
                        "x-message-ttl": int(delay * 1000),
                        "x-dead-letter-exchange": self.redelivery.name,
                        "x-dead-letter-routing-key": self.queue_name,
                    },
                )
            )
        entities.append(self._own(self.dlq_name))
        return entities


def subscriptions_of(service_cls):
    """The subscriptions a service class declares with `@subscribe(...)`."""
    from shared.subscriber import EventSubscriber

    found = []
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventSubscriber):
                found.append(
                    Subscription(entrypoint.source_service, entrypoint.event_type, service_cls.name, method_name)
                )
    return found


def declare(connection, entities):
    # a pooled connection comes back closed after a refused publish (an RPC to a service not running,
    # e.g. restoring ended sessions while identity is down): open it again rather than fail
    connection.ensure_connection(max_retries=3)
    channel = connection.channel()
    try:
        for entity in entities:
            # on this channel, not the one an entity kept from an earlier call: that one is closed (a relay's
            # reconnect declares the same entities again)
            entity.declare(channel=channel)
    finally:
        channel.close()


def declare_service(connection, service_cls):
    """Everything a service needs before it first runs: its exchange and its queues."""
    entities = unrouted_entities() + [events_exchange(service_cls.name)]
    for subscription in subscriptions_of(service_cls):
        entities.extend(subscription.entities())
    declare(connection, entities)
    return entities
