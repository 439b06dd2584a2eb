"""CPU seconds per process of a running suite, with what each spends at rest taken off (bench.costs, bench.checkin).

    meter = Meter(started.suite.processes)   # every service process (replicas as `meetings#2`) and the broker
    meter.background()                       # CPU seconds per second each spends with nothing asked of it
    before, began = meter.idle(), time.monotonic()
    ...                                      # the requests
    after = meter.idle()
    meter.per_request(before, after, time.monotonic() - began, n)   # {name: CPU ms per request}

Read from /proc: user + system time of the process and of every process below it. The broker (RabbitMQ's
beam.smp) is shared with whatever else runs on the machine: its figure is the least trustworthy.
"""

import subprocess
import time

from bench import memory


def broker_pid():
    found = subprocess.run(["pgrep", "-f", "beam.smp"], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


class Meter:
    """CPU seconds so far of each service process (with what it started) and of the broker."""

    BROKER = "rabbitmq"

    def __init__(self, processes):
        self.pids = {name: process.pid for name, process in processes.items() if name != "vneid-dev"}
        broker = broker_pid()
        if broker:
            self.pids[self.BROKER] = broker
        self.rest = dict.fromkeys(self.pids, 0.0)

    def read(self):
        below = memory.children()
        return {name: sum(memory.cpu_seconds(p) for p in memory.tree(pid, below)) for name, pid in self.pids.items()}

    def background(self, seconds=10.0):
        """CPU seconds per second each part spends with nothing asked of it (pollers, heartbeats, relays): taken
        off what a measured window spent, in proportion to its length."""
        self.idle()
        before, began = self.read(), time.monotonic()
        time.sleep(seconds)  # a measuring window, not a wait for anything
        after, took = self.read(), time.monotonic() - began
        self.rest = {part: (after[part] - before[part]) / took for part in after}
        return self.rest

    def idle(self, quiet=0.03, interval=1.0, timeout=120):
        """Wait until each of the suite's processes spends less than `quiet` CPU seconds a second (what requests
        set off is done: a busy one among idle ones is not idle). The broker is left out of the test: other runs on
        the machine keep it busy."""
        last = self.read()
        deadline = time.monotonic() + timeout
        services = [name for name in last if name != self.BROKER]
        while time.monotonic() < deadline:
            time.sleep(interval)  # a measuring window: CPU is counted over it
            now = self.read()
            busy = [name for name in services if now[name] - last[name] >= quiet * interval]
            last = now
            if not busy:
                return now
        return last

    def per_request(self, before, after, seconds, n):
        """{name: CPU ms per request} over a window of `seconds`, each part's rest-time spending taken off."""
        return {name: max(0.0, after[name] - before[name] - self.rest[name] * seconds) * 1000 / n for name in after}


def grouped(spent):
    """{service: ms} from {process name: ms}: replicas (`meetings#2`) counted with their service."""
    parts = {}
    for name, ms in spent.items():
        part = name.split("#")[0]
        parts[part] = parts.get(part, 0.0) + ms
    return parts
