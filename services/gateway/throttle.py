"""Per-client-address limit on the sign-in endpoints (in this gateway process).

A sliding window: at most `limit` attempts in `window` seconds per address.
Several gateway replicas each keep their own window; identity's per-account
throttle is the one that holds across the cluster.
"""

import math
import time
from collections import defaultdict, deque

from shared.errors import TooManyAttempts


class AddressThrottle:
    def __init__(self, limit=60, window=60.0, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits = defaultdict(deque)

    def hit(self, address):
        now = self.clock()
        hits = self._hits[address]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = max(1, math.ceil(hits[0] + self.window - now))
            raise TooManyAttempts(details={"retry_after": retry}, headers={"Retry-After": str(retry)})
        hits.append(now)
        if len(self._hits) > 100_000:  # bound memory under an address-spraying attack
            self._forget_idle(now)

    def _forget_idle(self, now):
        for address in [a for a, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[address]
