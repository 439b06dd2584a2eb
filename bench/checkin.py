"""`python -m bench.checkin`: the check-in burst through the gateway (issue 12), beside `GET /me` in the same run.

The suite as `make run` starts it (SQLite, a throw-away vhost). Through the API, as the system administrator: a
province in pilot, `BENCH_GRASSROOTS` (10) grassroots committees, `BENCH_BURST_BRANCHES` (500) branches, then CSV
imports (`POST /imports`, files of `BENCH_IMPORT_CHUNK`) of `BENCH_BURST_MEMBERS` (20,000) members over the
branches, and each branch's first member appointed secretary. Access tokens are minted with the suite's development
signing key (identity's key directory) instead of 20,000 sign-ins. Each secretary schedules a meeting starting in a
few minutes (check-in is open from 30 minutes before) and reads its check-in code, again as each 30-s step begins,
as the screen shows it (a code is accepted one step either side of its own). Then every member checks in once, in
a shuffled order, over `BENCH_CONNECTIONS` (50) keep-alive connections, as fast as they answer; then the same number
of `GET /me` by the same members over the same connections. Afterwards meetings' database must hold exactly one
check-in per member and one `meetings.member_checked_in` event in its outbox per check-in. `BENCH_PROFILE=<dir>`
records meetings and the gateway with py-spy (`PY_SPY`) during the burst.
"""

import http.client
import json
import os
import queue
import random
import signal
import subprocess
import threading
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text

from shared.demo import DEMO_PASSWORD
from bench.backends import PG_SERVER
from bench.meter import Meter, grouped
from tests.support.postgres import scratch_database
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

MEMBERS = int(os.environ.get("BENCH_BURST_MEMBERS", 20_000))
BRANCHES = int(os.environ.get("BENCH_BURST_BRANCHES", 500))
GRASSROOTS = int(os.environ.get("BENCH_GRASSROOTS", 10))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 50))
# meetings on PostgreSQL (a database made and dropped on BENCH_POSTGRES_URL) as BENCH_MEETINGS_REPLICAS processes
MEETINGS_BACKEND = os.environ.get("BENCH_MEETINGS_BACKEND", "sqlite")
MEETINGS_REPLICAS = os.environ.get("BENCH_MEETINGS_REPLICAS", "1")
# a directory: py-spy records these processes during the burst (collapsed stacks, one file each)
PROFILE = os.environ.get("BENCH_PROFILE")
PROFILED = os.environ.get("BENCH_PROFILED", "meetings,gateway").split(",")
# seconds the suite is watched at rest before the burst: what each process spends then is taken off its figures
REST_SECONDS = float(os.environ.get("BENCH_REST_SECONDS", 10))
PY_SPY = os.environ.get("PY_SPY", "py-spy")
IMPORT_CHUNK = int(os.environ.get("BENCH_IMPORT_CHUNK", 1_000))
STEP = 30  # seconds a check-in code lives (services/meetings/attendance.py)
ADMINISTRATOR = "001000000000"
HEADER = (
    "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
    "organization_code,status"
)


class OneWrite(http.client.HTTPConnection):
    """A request's headers and a bytes body in one write, as curl and wrk send a small one. Python's http.client
    sends them in two, and the gateway may then read the body with a second receive and wake-up: a cost of this
    client, not of the requests."""

    def _send_output(self, message_body=None, encode_chunked=False):
        if not isinstance(message_body, bytes) or encode_chunked:
            return super()._send_output(message_body, encode_chunked)
        self._buffer.extend((b"", b""))
        request = b"\r\n".join(self._buffer) + message_body
        del self._buffer[:]
        self.send(request)


class Client:
    """One keep-alive HTTP/1.1 connection to the gateway; JSON in and out."""

    def __init__(self, base):
        parts = urlsplit(base)
        self.host, self.port, self.prefix = parts.hostname, parts.port, parts.path
        self.connection = None

    def call(self, method, path, token=None, body=None, raw=None, content_type="application/json"):
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = OneWrite(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, self.prefix + path, body=data, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        return response.status, (json.loads(payload) if payload else None)


_local = threading.local()


def client(base):
    if getattr(_local, "client", None) is None:
        _local.client = Client(base)
    return _local.client


def ok(base, method, path, token=None, body=None, **kwargs):
    status, answer = client(base).call(method, path, token, body, **kwargs)
    assert status in (200, 201, 202), (method, path, status, answer)
    return answer


def parallel(function, items, workers=8):
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


class Minter:
    """Access tokens as identity signs them, with the suite's development key (no sign-in per member)."""

    def __init__(self, started):
        from services.identity.keys import KeyStore

        self.store = KeyStore.open(os.path.join(started.data_dir, "identity-keys"), create=False)
        self.issuer = started.env.get("JWT_ISSUER", "sotay-identity")
        self.audience = started.env.get("JWT_AUDIENCE", "sotay-api")

    def token(self, member_id, citizen_id):
        now = datetime.now(UTC)
        return self.store.sign(
            {
                "iss": self.issuer,
                "aud": self.audience,
                "sub": str(member_id),
                "cid": citizen_id,
                "sid": str(uuid.uuid4()),
                "jti": str(uuid.uuid4()),
                "iat": now,
                "exp": now + timedelta(minutes=30),
            }
        )


_engines = {}


def rows(started, name, query):
    """A service's database read directly (the bench's own checks): its SQLite file, or its PostgreSQL URL."""
    url = started.env.get(f"{name.upper()}_DATABASE_URL") or f"sqlite:///{started.data_dir}/{name}.db"
    if url not in _engines:
        _engines[url] = create_engine(url)
    with _engines[url].connect() as connection:
        return connection.execute(text(query)).all()


def listed(ids):
    return ",".join(str(int(i)) for i in ids)


def administrator(base):
    """The system administrator's access token, signed in now."""
    return wait_for(
        lambda: (
            client(base)
            .call("POST", "/auth/login", body={"citizen_id": ADMINISTRATOR, "password": DEMO_PASSWORD})[1]
            .get("access_token")
        ),  # fmt: skip
        timeout=60,
        interval=0.3,
        message="the administrator's sign-in",
    )


def make_people(started, admin):
    """The tree and the members through the API; returns {branch id: [(member id, citizen id), …]}."""
    base = started.base
    centre = next(p for p in ok(base, "GET", "/me", admin)["positions"] if p["role"] == "system_administrator")
    province = ok(base, "POST", f"/organizations/{centre['organization_id']}/children", admin,
                  {"code": "BURST-P", "name": "Tỉnh Thử tải"})  # fmt: skip
    ok(base, "PUT", f"/organizations/{province['id']}/rollout", admin, {"state": "pilot"})
    grassroots = parallel(
        lambda n: ok(
            base,
            "POST",
            f"/organizations/{province['id']}/children",
            admin,
            {"code": f"BURST-G{n}", "name": f"Đảng bộ cơ sở {n}"},
        ),  # fmt: skip
        range(GRASSROOTS),
    )
    branches = parallel(
        lambda n: ok(
            base,
            "POST",
            f"/organizations/{grassroots[n % GRASSROOTS]['id']}/children",
            admin,
            {"code": f"BURST-B{n}", "name": f"Chi bộ {n}"},
        ),  # fmt: skip
        range(BRANCHES),
    )
    ids = [b["id"] for b in branches]
    for first in range(0, MEMBERS, IMPORT_CHUNK):
        import_members(started, admin, range(first, min(first + IMPORT_CHUNK, MEMBERS)), ids)
    found = rows(
        started, "members", "SELECT id, citizen_id, organization_id FROM members WHERE citizen_id LIKE '0019%'"
    )
    people = {branch: [] for branch in ids}
    for member_id, citizen_id, organization_id in sorted(found):
        people[organization_id].append((member_id, citizen_id))
    assert sum(map(len, people.values())) == MEMBERS
    return people


def import_members(started, admin, numbers, branch_ids):
    """One CSV import through the API, waited for until meetings' directory holds its members: a smaller file
    keeps each service's re-read of it under a minute (a longer one outlives its service token, see README)."""
    base = started.base
    admin = administrator(base)  # afresh: on a busy machine the whole import outlives one access token (15 min)
    lines = [HEADER]
    for n in numbers:
        lines.append(f"0019{n:08d},Đảng viên Tải {n},1985-05-05,Nam,,,,2010-01-01,2011-01-01,BURST-B{n % BRANCHES},"
                     "chính thức")  # fmt: skip
    job = ok(base, "POST", "/imports", admin, raw="\n".join(lines).encode(), content_type="text/csv")
    wait_for(
        lambda: ok(base, "GET", f"/imports/{job['id']}", admin)["status"] in ("completed", "failed"),
        timeout=600,
        interval=1,
        message="the import",
    )
    assert ok(base, "GET", f"/imports/{job['id']}", admin)["status"] == "completed"
    wait_for(
        lambda: known_members(started, branch_ids) == numbers.stop,
        timeout=600,
        interval=0.5,
        message="meetings to know the imported members",
    )


def count(started, name, query):
    return rows(started, name, query)[0][0]


def known_members(started, branch_ids):
    """How many members of these branches meetings' directory holds."""
    marks = listed(branch_ids)
    return count(started, "meetings", f"SELECT count(*) FROM directory_members WHERE organization_id IN ({marks})")


def appoint_secretaries(started, admin, people):
    base = started.base
    parallel(
        lambda branch: ok(
            base,
            "POST",
            f"/members/{people[branch][0][0]}/positions",
            admin,
            {"organization_id": branch, "role": "secretary"},
        ),  # fmt: skip
        list(people),
    )
    marks = listed(people)
    wait_for(
        lambda: (
            known_members(started, people) == MEMBERS
            and count(
                started,
                "meetings",
                f"SELECT count(*) FROM directory_positions WHERE role = 'secretary' AND organization_id IN ({marks})",
            )
            == len(people)
        ),
        timeout=1800,  # four services re-read the import's members: minutes on a busy 2-core machine
        interval=1,
        message="meetings to know the members and secretaries",
    )


def schedule(started, tokens, people):
    """A meeting per branch, scheduled by its secretary, starting in five minutes; {branch: meeting id}."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    body = {"title": "Sinh hoạt chi bộ (thử tải)", "kind": "regular", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(), "location": "Hội trường"}  # fmt: skip

    def one(branch):
        token = tokens[people[branch][0][0]]
        for _ in range(5):
            status, answer = client(started.base).call("POST", f"/organizations/{branch}/meetings", token, body)
            if status == 201:
                return branch, answer["id"]
            # 503 on a machine this busy (the RPC's deadline passed): it may have been scheduled all the same
            assert status == 503, (branch, status, answer)
            try:
                mine = wait_for(lambda: scheduled(started.base, branch, token), timeout=10, interval=1,
                                message="the meeting after a 503")  # fmt: skip
                return branch, mine[0]["id"]
            except AssertionError:
                continue  # not there: schedule it again
        raise AssertionError(f"no meeting for branch {branch}")

    return dict(parallel(one, list(people)))


def settle(started, meter, meetings):
    """Wait until what the setup set off is done, and say what it cost: content, notify and identity re-reading
    the imported members (the import is waited for in meetings' directory alone), each meeting's invitation and,
    as it starts within the hour, its 1-h reminder (meetings' scheduler, every 15 s), each a message to every
    invitee from notify. Counted in the check-ins' window, that work was most of what the suite spent "per
    check-in" outside meetings and the gateway (bench/README.md, 2026-11-26 07:00)."""
    reminded = "SELECT count(*) FROM outbox WHERE type = 'meetings.reminder_time_reached' AND state = 'sent'"
    began, before = time.monotonic(), meter.read()
    wait_for(lambda: count(started, "meetings", reminded) >= len(meetings), timeout=120, interval=1,
             message="the meetings' 1-h reminders")  # fmt: skip
    after = meter.idle(timeout=1800)
    spent = {part: (after[part] - before[part]) * 1000 / MEMBERS for part in after}
    print(
        f"what the setup set off, settled in {time.monotonic() - began:.0f} s; CPU ms per member: "
        + ", ".join(f"{part} {ms:.2f}" for part, ms in grouped(spent).items())
    )


def scheduled(base, branch, token):
    status, answer = client(base).call("GET", f"/organizations/{branch}/meetings", token)
    return status == 200 and answer["items"]


class Codes:
    """Each meeting's current code as its secretary's screen shows it: read when the screen opens, and again as
    each 30-s step begins (a screen shows a code until it expires). A code read at a step is accepted until the
    end of the next one, so a member never holds one older than that."""

    def __init__(self, started, meetings, secretary_tokens):
        self.started, self.meetings, self.tokens = started, meetings, secretary_tokens
        self.codes, self.stop = {}, threading.Event()
        self.read()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def read(self):
        def one(branch):
            meeting = self.meetings[branch]
            path = f"/meetings/{meeting}/check-in-code"
            for _ in range(3):  # a 503 on a busy machine: the screen asks again (and shows the last code meanwhile)
                status, answer = client(self.started.base).call("GET", path, self.tokens[branch])
                if status == 200:
                    self.codes[meeting] = answer["code"]
                    return
            assert meeting in self.codes, (path, status, answer)

        parallel(one, list(self.meetings), workers=8)

    def loop(self):
        while not self.stop.wait(STEP - time.time() % STEP + 0.5):  # just after the next step begins
            self.read()


def fire(base, jobs, send):
    """`send(client, job)` for every job over CONNECTIONS threads, each its own keep-alive connection; returns
    (seconds, latencies in ms, {status: n})."""
    work = queue.SimpleQueue()
    for job in jobs:
        work.put(job)
    latencies, statuses, lock = [], {}, threading.Lock()

    def worker():
        mine, seen = [], {}
        connection = Client(base)
        while True:
            try:
                job = work.get_nowait()
            except queue.Empty:
                break
            began = time.perf_counter()
            status = send(connection, job)
            mine.append((time.perf_counter() - began) * 1000)
            seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, sorted(latencies), statuses


class Profiler:
    """py-spy recording the given processes while the block runs (BENCH_PROFILE); nothing when unset."""

    def __init__(self, started, names):
        self.started, self.names, self.recorders = started, names, []

    def __enter__(self):
        if PROFILE:
            os.makedirs(PROFILE, exist_ok=True)
            for name in self.names:
                pid = self.started.suite.processes[name].pid
                out = os.path.join(PROFILE, f"{name}.txt")
                self.recorders.append(subprocess.Popen(
                    [PY_SPY, "record", "--pid", str(pid), "--format", "raw", "--rate", "50", "--nonblocking",
                     "-o", out],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        return self

    def __exit__(self, *exc):
        for recorder in self.recorders:
            recorder.send_signal(signal.SIGINT)
        for recorder in self.recorders:
            recorder.wait(timeout=60)


def summary(seconds, latencies, statuses):
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {"n": len(latencies), "seconds": seconds, "rps": len(latencies) / seconds, "p50": pick(0.50),
            "p99": pick(0.99), "statuses": statuses}  # fmt: skip


@contextmanager
def suite():
    """The suite; meetings on a PostgreSQL database of its own (and as many replicas as asked) when asked."""
    if MEETINGS_BACKEND == "sqlite":
        with throwaway_suite("sotay-burst") as started:
            yield started
        return
    with scratch_database("sotay_bench_burst", PG_SERVER) as url:
        # two cores' worth of connections: PostgreSQL's 100 are shared with the other engineers' runs
        env = {"MEETINGS_DATABASE_URL": url, "REPLICAS_MEETINGS": MEETINGS_REPLICAS, "DATABASE_POOL_SIZE": "10",
               "DATABASE_MAX_OVERFLOW": "5"}  # fmt: skip
        with throwaway_suite("sotay-burst", env=env) as started:
            try:
                yield started
            finally:
                for engine in _engines.values():
                    engine.dispose()


def main():
    with suite() as started:
        base = started.base
        began = time.perf_counter()
        admin = administrator(base)
        people = make_people(started, admin)
        print(f"{BRANCHES} branches and {MEMBERS:,} members through the API in {time.perf_counter() - began:.0f} s")
        appoint_secretaries(started, administrator(base), people)
        minter = Minter(started)
        tokens = {m: minter.token(m, c) for members in people.values() for m, c in members}
        print(f"secretaries known to meetings, {len(tokens):,} tokens minted: {time.perf_counter() - began:.0f} s")
        meetings = schedule(started, tokens, people)
        secretaries = {branch: tokens[people[branch][0][0]] for branch in people}
        meter = Meter(started.suite.processes)
        settle(started, meter, meetings)
        meter.background(REST_SECONDS)  # before the screens open: their code reads are part of the burst
        codes = Codes(started, meetings, secretaries)
        jobs = [(meetings[branch], tokens[m]) for branch, members in people.items() for m, _ in members]
        random.Random(12).shuffle(jobs)
        # warm the gateway's and members' paths (JWKS, connection pools) on a few members
        fire(base, jobs[:200], lambda c, job: c.call("GET", "/me", job[1])[0])

        retried = []

        def check_in(connection, job):
            meeting, token = job
            status, answer = connection.call(
                "POST", f"/meetings/{meeting}/check-in", token, {"code": codes.codes[meeting]}
            )
            if status == 400 and answer["error"]["code"] == "invalid_code":
                # the code turned while the request waited: the member scans the screen again
                retried.append(meeting)
                read, screen = connection.call(
                    "GET", f"/meetings/{meeting}/check-in-code", secretaries_by_meeting[meeting]
                )
                if read == 200:
                    codes.codes[meeting] = screen["code"]
                status = connection.call(
                    "POST", f"/meetings/{meeting}/check-in", token, {"code": codes.codes[meeting]}
                )[0]
            return status

        secretaries_by_meeting = {meetings[branch]: token for branch, token in secretaries.items()}
        pending = "SELECT count(*) FROM outbox WHERE type = 'meetings.member_checked_in' AND state = 'pending'"
        with Profiler(started, PROFILED):
            before, began = meter.idle(), time.monotonic()
            burst = summary(*fire(base, jobs, check_in))
            # what the burst set off counts with it: until the relay has published every check-in's event and
            # the suite is quiet again
            wait_for(lambda: count(started, "meetings", pending) == 0, timeout=300, message="the relay to finish")
            after = meter.idle()
            burst["cpu"] = meter.per_request(before, after, time.monotonic() - began, len(jobs))
        codes.stop.set()
        before, began = meter.idle(), time.monotonic()
        me = summary(*fire(base, jobs, lambda c, job: c.call("GET", "/me", job[1])[0]))
        me["cpu"] = meter.per_request(before, meter.idle(), time.monotonic() - began, len(jobs))
        marks = listed(meetings.values())
        recorded = count(
            started,
            "meetings",
            f"SELECT count(*) FROM invitees WHERE checked_in_at IS NOT NULL AND meeting_id IN ({marks})",
        )
        events, passes = rows(
            started,
            "meetings",
            "SELECT count(*), count(DISTINCT sent_at) FROM outbox WHERE type = 'meetings.member_checked_in'",
        )[0]
    report(burst, me, recorded, events, len(retried), passes, meter.rest)


def report(burst, me, recorded, events, retried, passes, rest):
    print(f"check-ins retried after a code turned (counted as one request, both round trips): {retried:,}")
    print(f"\ncheck-in burst — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {CONNECTIONS} connections, "
          f"{os.cpu_count()} cores, meetings on {MEETINGS_BACKEND} × {MEETINGS_REPLICAS}, load average "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'path':40} {'requests':>9} {'seconds':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for name, result in (("POST /meetings/{id}/check-in", burst), ("GET /me (same members, same shape)", me)):
        print(f"{name:40} {result['n']:9,} {result['seconds']:8.1f} {result['rps']:7.0f} {result['p50']:8.1f} "
              f"{result['p99']:8.1f}  {result['statuses']}")  # fmt: skip
    print(f"ratio check-in ÷ /me: throughput {burst['rps'] / me['rps']:.2f}× (target ≥ 0.7×); check-in p99 "
          f"{burst['p99']:.0f} ms (target < 500 ms)")  # fmt: skip
    print(f"recorded in meetings: {recorded:,} check-ins, {events:,} member_checked_in events "
          f"(expected {MEMBERS:,} each; within a minute: {'yes' if burst['seconds'] <= 60 else 'no'}), published "
          f"in {passes:,} relay passes")  # fmt: skip
    cpu_table(burst["cpu"], me["cpu"], rest)


def cpu_table(burst, me, rest):
    """CPU ms per request of each service and the broker, each one's rest-time spending taken off."""
    burst, me, rest = grouped(burst), grouped(me), grouped(rest)
    print("\nCPU ms per request (at rest, CPU ms per second, taken off in proportion to each window's length)")
    print(f"{'process':12} {'check-in':>9} {'GET /me':>9} {'at rest':>9}")
    for part in burst:
        print(f"{part:12} {burst[part]:9.2f} {me[part]:9.2f} {rest[part] * 1000:9.1f}")
    services = [part for part in burst if part != Meter.BROKER]
    for label, parts in (("services", services), ("with broker", list(burst))):
        total, total_me = sum(burst[p] for p in parts), sum(me[p] for p in parts)
        print(f"{label:12} {total:9.2f} {total_me:9.2f}   check-in ÷ /me {total / total_me:.2f}×")


if __name__ == "__main__":
    main()
