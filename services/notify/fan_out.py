"""The push fan-out worker: queues publications' pushes in the background, one short transaction a batch, taking
turns with everything else in the process (a one-time code waits for one batch at most, never for the fan-out)."""

import logging
import threading

import eventlet
from nameko.extensions import DependencyProvider

from shared import config
from shared.db import Database
from services.notify import publications

log = logging.getLogger(__name__)


class FanOutWorker(DependencyProvider):
    """Woken when a publication commits; works through every fan-out under way, then waits for the next."""

    def __init__(self, sender_attr="sender"):
        self.sender_attr = sender_attr

    def setup(self):
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.interval = float(config.get("FAN_OUT_POLL_INTERVAL", 5.0))
        self.batch_size = int(config.get("FAN_OUT_BATCH", publications.FAN_OUT_BATCH))

    def start(self):
        self.container.spawn_managed_thread(self._run, identifier="notify push fan-out")

    def stop(self):
        self.stopped.set()
        self.wake.set()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self

    def _dependency(self, kind=None, attr=None):
        return next(
            d for d in self.container.dependencies if (kind and isinstance(d, kind)) or (attr and d.attr_name == attr)
        )

    def _run(self):
        while not self.stopped.is_set():
            try:
                while not self.stopped.is_set() and self.step() is not None:
                    eventlet.sleep(0)  # a code, a request or the sender goes between two batches
            except Exception as exc:
                log.error("push fan-out pass failed with %s", type(exc).__name__)
            self.wake.wait(self.interval)
            self.wake.clear()

    def step(self):
        """One batch in its own transaction; returns what `publications.push_batch` does."""
        unit = self._dependency(kind=Database).unit_of_work("notify.push_fan_out")
        try:
            with unit.transaction() as session:
                queued = publications.push_batch(session, self.batch_size)
        finally:
            unit.close()
        if queued:
            self._dependency(attr=self.sender_attr).wake.set()
        return queued
