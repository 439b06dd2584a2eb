"""A feed of events into one process's memory: a queue of the process's own (exclusive, auto-delete), so every
replica hears every event, consumed on a connection of its own and declared afresh after each reconnection.

Whatever the process keeps from such a feed may have missed events while it was disconnected: `lost()` runs
then, before the next try, and `connected()` once the new queue is bound (an event published from then on is
in the queue, not lost). The ended sessions (shared/revocation.py) and the gateway's known member versions
(services/gateway/versions.py) are fed this way.
"""

import logging
import threading

from kombu import Connection

log = logging.getLogger(__name__)


def process_queues(extensions):
    """The process queues a service's extensions declare (a `process_queue()` of theirs, or `process_queues()`
    when they consume more than one): what its broker user needs (deploy/rabbitmq)."""
    queues = []
    for extension in extensions:
        if callable(getattr(extension, "process_queues", None)):
            queues += extension.process_queues()
        elif callable(getattr(extension, "process_queue", None)):
            queues.append(extension.process_queue())
    return queues


def permission_pattern(queue):
    """Every name `queue` may take (a fresh suffix per connection), as a regular expression."""
    return queue.name.rsplit(".live-", 1)[0].replace(".", r"\.") + r"\..+"  # names are [\w.-]: only dots need it


class ProcessFeed:
    """Consumes `queue()` until `stop()`; subclasses say what to keep (`on_event`) and what to do when connected,
    idle, between drains (`tick`) and when the connection is lost."""

    name = "process feed"

    def __init__(self, amqp_uri, retry_interval=1.0, heartbeat=10):
        self.amqp_uri = amqp_uri
        self.retry_interval = retry_interval
        self.heartbeat = heartbeat
        self.stopped = threading.Event()

    def queue(self):
        raise NotImplementedError

    def on_event(self, body):
        raise NotImplementedError

    def connected(self):
        """The queue is bound and consumed."""

    def tick(self):
        """Before each wait for events (at least every half second)."""

    def idle(self):
        """Half a second without an event."""

    def lost(self):
        """The connection is gone (or never came): events published meanwhile are missed."""

    def run(self):
        while not self.stopped.is_set():
            try:
                self._consume()
            except Exception as exc:  # broker lost
                log.warning("%s disconnected (%s); reconnecting", self.name, type(exc).__name__)
            self.lost()
            self.stopped.wait(self.retry_interval)

    def stop(self):
        self.stopped.set()

    def _consume(self):
        with Connection(self.amqp_uri, heartbeat=self.heartbeat, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
            with conn.Consumer(self.queue(), callbacks=[self._on_message], accept=["json"], no_ack=True):
                self.connected()
                while not self.stopped.is_set():
                    self.tick()
                    try:
                        conn.drain_events(timeout=0.5)
                    except TimeoutError:
                        self.idle()
                    conn.heartbeat_check()  # a busy queue must still send ours (it only receives)

    def _on_message(self, body, message):
        self.on_event(body)
