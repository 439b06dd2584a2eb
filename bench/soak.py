"""`make soak` (python -m bench.soak): a mixed load held for SOAK_MINUTES (30) at SOAK_RATE requests/s (40),
zero errors and flat memory expected (issue 14, item 6).

The suite as `make run` starts it (SQLite under a temporary DATA_DIR, a throw-away vhost). Open loop: requests are
sent on a fixed schedule whatever the answers' speed (SOAK_WORKERS threads with keep-alive connections), so a slow
service shows as latency, not as a lighter load. The mix, per 100 requests, is a member's day and a secretary's:

    members' reads   GET /me 25, notifications 10, documents 15, unread count 10, meetings 10, a document 5
    members' writes  read receipt 5, a note written and deleted 2 + 2, notification preferences read 2
    sign-ins         POST /auth/login 4 (argon2id), refresh 2
    secretary        GET the branch's meetings 4, a meeting scheduled then cancelled 2 + 2

Every 10 s: requests, errors, p50/p99 of the window, and the resident memory of each service (bench/memory.py).
At the end: totals, and each service's memory slope (a least-squares line, MB per hour) through the samples after the
first two minutes and through the last half's — "flat" is under 10 MB/h over the last half: every service grows
some MB in its first quarter of an hour as its caches fill (SQLAlchemy's statements, the pools' connections, the
known versions and tokens; bench/README.md, the soak), a leak goes on growing. Exit status 1 on any error or a
service growing faster.
"""

import os
import random
import signal
import statistics
import sys
import threading
import time
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta

import requests

from shared.demo import DEMO_PASSWORD
from bench import memory
from tests.support.suite import throwaway_suite

warnings.filterwarnings("ignore", category=DeprecationWarning)

MINUTES = float(os.environ.get("SOAK_MINUTES", 30))
RATE = float(os.environ.get("SOAK_RATE", 40))
WORKERS = int(os.environ.get("SOAK_WORKERS", 16))
WINDOW = 10.0
FLAT_MB_PER_HOUR = 10.0
MEMBER, SECRETARY = "001000000002", "001000000001"


class Actor:
    """A signed-in person whose access token is renewed by refresh before it lapses."""

    def __init__(self, base, citizen_id):
        self.base, self.citizen_id = base, citizen_id
        self.lock = threading.Lock()
        self._sign_in(requests.Session())

    def _sign_in(self, http):
        answer = http.post(f"{self.base}/auth/login", json={"citizen_id": self.citizen_id, "password": DEMO_PASSWORD})
        answer.raise_for_status()
        self._keep(answer.json())

    def _keep(self, tokens):
        self.access, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.renew_at = time.monotonic() + tokens["expires_in"] / 2

    def headers(self, http):
        with self.lock:
            if time.monotonic() > self.renew_at:
                answer = http.post(f"{self.base}/auth/refresh", json={"refresh_token": self.refresh_token})
                answer.raise_for_status()
                self._keep(answer.json())
            return {"Authorization": f"Bearer {self.access}"}


class Mix:
    def __init__(self, base):
        self.base = base
        self.member, self.secretary = Actor(base, MEMBER), Actor(base, SECRETARY)
        http = requests.Session()
        me = http.get(f"{base}/me", headers=self.secretary.headers(http)).json()
        self.branch = me["organization_id"]
        document = http.post(
            f"{base}/documents",
            headers=self.secretary.headers(http),
            json={"category": "news", "title": "Bản tin chi bộ (soak)", "body": "Nội dung.", "audience": [self.branch]},
        ).json()
        http.post(f"{base}/documents/{document['id']}/publish", headers=self.secretary.headers(http)).raise_for_status()
        self.document = document["id"]
        weights = {
            self.me: 25, self.notifications: 10, self.documents: 15, self.unread: 10, self.meetings: 10,
            self.a_document: 5, self.receipt: 5, self.note: 2, self.preferences: 2, self.sign_in: 4,
            self.refresh: 2, self.branch_meetings: 4, self.schedule_and_cancel: 2,
        }  # fmt: skip
        self.jobs, self.weights = list(weights), list(weights.values())

    def pick(self, rng):
        return rng.choices(self.jobs, self.weights)[0]

    def _get(self, http, path, actor=None):
        return [http.get(f"{self.base}{path}", headers=(actor or self.member).headers(http), timeout=30)]

    def me(self, http):
        return self._get(http, "/me")

    def notifications(self, http):
        return self._get(http, "/me/notifications?limit=20")

    def documents(self, http):
        return self._get(http, "/documents?limit=20")

    def unread(self, http):
        return self._get(http, "/me/documents/unread-count")

    def meetings(self, http):
        return self._get(http, "/me/meetings")

    def a_document(self, http):
        return self._get(http, f"/documents/{self.document}")

    def preferences(self, http):
        return self._get(http, "/me/notification-preferences")

    def branch_meetings(self, http):
        return self._get(http, f"/organizations/{self.branch}/meetings", self.secretary)

    def receipt(self, http):
        return [http.post(f"{self.base}/documents/{self.document}/read", headers=self.member.headers(http), timeout=30)]

    def note(self, http):
        headers = self.member.headers(http)
        made = http.post(f"{self.base}/me/notes", headers=headers, json={"title": "Ghi chú", "body": "…"}, timeout=30)
        if made.status_code != 201:
            return [made]
        return [made, http.delete(f"{self.base}/me/notes/{made.json()['id']}", headers=headers, timeout=30)]

    def sign_in(self, http):
        body = {"citizen_id": MEMBER, "password": DEMO_PASSWORD}
        answer = http.post(f"{self.base}/auth/login", json=body, timeout=30)
        if answer.status_code == 200:  # signed out again: a soak must not pile up sessions a real member would end
            token = answer.json()["access_token"]
            out = http.post(f"{self.base}/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=30)
            return [answer, out]
        return [answer]

    def refresh(self, http):
        with self.member.lock:
            self.member.renew_at = 0
        return self._get(http, "/me")

    def schedule_and_cancel(self, http):
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        headers = self.secretary.headers(http)
        body = {
            "title": "Sinh hoạt chuyên đề (soak)",
            "kind": "thematic",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "location": "Hội trường",
        }
        made = http.post(f"{self.base}/organizations/{self.branch}/meetings", headers=headers, json=body, timeout=30)
        if made.status_code != 201:
            return [made]
        cancel = {"reason": "Thử tải / a soak run"}
        url = f"{self.base}/meetings/{made.json()['id']}/cancel"
        return [made, http.post(url, headers=headers, json=cancel, timeout=30)]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies, self.errors, self.count, self.examples = [], Counter(), 0, {}

    def add(self, name, seconds, answers=(), failure=None):
        with self.lock:
            self.count += 1
            self.latencies.append(seconds)
            for answer in answers:
                if answer.status_code >= 400:
                    key = f"{name} {answer.status_code}"
                    self.errors[key] += 1
                    self.examples.setdefault(key, answer.text[:300])
            if failure is not None:
                key = f"{name} {type(failure).__name__}"
                self.errors[key] += 1
                self.examples.setdefault(key, str(failure)[:300])

    def take(self):
        with self.lock:
            taken = (self.count, list(self.latencies), sum(self.errors.values()))
            self.count, self.latencies = 0, []
            return taken


def percentile(values, p):
    return statistics.quantiles(values, n=100)[p - 1] * 1000 if len(values) >= 2 else 0.0


def slope_mb_per_hour(samples):
    """Least squares through (seconds, MB)."""
    if len(samples) < 3:
        return 0.0
    xs, ys = zip(*samples, strict=True)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread * 3600 if spread else 0.0


def run(started):
    mix = Mix(started.base)
    tally, total_errors, sent, taken = Tally(), Counter(), [0], [0]
    stop = time.monotonic() + MINUTES * 60
    slots = threading.Semaphore(0)

    def worker(seed):
        rng, http = random.Random(seed), requests.Session()
        while True:
            slots.acquire()
            if time.monotonic() > stop + 5:
                return
            taken[0] += 1
            job = mix.pick(rng)
            began = time.monotonic()
            try:
                answers = job(http)
                tally.add(job.__name__, time.monotonic() - began, answers)
            except Exception as exc:  # a refused connection or a timeout is an error, not the end of the soak
                tally.add(job.__name__, time.monotonic() - began, failure=exc)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    memory_samples = {name: [] for name in started.suite.processes}
    print(f"soak: {MINUTES:g} min at {RATE:g} requests/s, {WORKERS} workers; every {WINDOW:g} s:", flush=True)
    next_window, next_send, late = began + WINDOW, began, 0
    while time.monotonic() < stop:
        now = time.monotonic()
        if now >= next_send:
            slots.release()
            sent[0] += 1
            next_send += 1 / RATE
            continue
        if now >= next_window:
            count, latencies, errors = tally.take()
            resident = memory.resident(started.suite.processes)
            for name, mb in resident.items():
                memory_samples[name].append((now - began, mb))
            backlog = sent[0] - taken[0]  # sent but not yet taken by a worker: the workers are too few
            late = max(late, backlog)
            print(
                f"{now - began:6.0f} s  {count / WINDOW:5.1f} req/s  errors {errors}  "
                f"p50 {percentile(latencies, 50):6.0f} ms  p99 {percentile(latencies, 99):6.0f} ms  waiting {backlog}  "
                + " ".join(f"{name} {mb:.0f}" for name, mb in resident.items()),
                flush=True,
            )
            next_window += WINDOW
            continue
        time.sleep(min(next_send, next_window) - now)
    stop = time.monotonic() - 10  # workers still waiting for a slot end now
    for _ in threads:
        slots.release()
    for thread in threads:
        thread.join(timeout=60)
    total_errors.update(tally.errors)
    return memory_samples, total_errors, tally.examples, sent[0], late


def main():
    with throwaway_suite("sotay-soak") as started:
        samples, errors, examples, sent, late = run(started)
    print(f"\nsoak {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {sent:,} requests sent in {MINUTES:g} min")
    print(f"errors: {sum(errors.values())}" + "".join(f"\n  {key}: {n} — {examples[key]}" for key, n in errors.items()))
    print(f"most requests waiting for a worker at once: {late}")
    grew = []
    print(f"{'service':12} {'first MB':>9} {'last MB':>8} {'MB/h after 2 min':>17} {'MB/h, last half':>16}")
    for name, points in samples.items():
        end = points[-1][0] if points else 0
        warm = slope_mb_per_hour([(t, mb) for t, mb in points if t >= 120] or points)
        settled = slope_mb_per_hour([(t, mb) for t, mb in points if t >= end / 2] or points)
        if settled > FLAT_MB_PER_HOUR:
            grew.append(name)
        print(f"{name:12} {points[0][1]:9.0f} {points[-1][1]:8.0f} {warm:17.1f} {settled:16.1f}")
    flat = "flat" if not grew else "growing: " + ", ".join(grew)
    print(f"memory: {flat} (under {FLAT_MB_PER_HOUR:g} MB/h over the last half: a leak grows on, a warm-up stops)")
    return 1 if errors or grew else 0


def _stop(signum, frame):
    raise SystemExit(f"soak: stopped by signal {signum}")  # the suite's processes stopped on the way out


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    sys.exit(main())
