"""`python -m bench.costs` (part of `make bench`): the CPU each request costs each part of the suite, the figures
bench/CAPACITY.md multiplies out to the country's peak.

The suite as `make run` starts it (SQLite, a throw-away vhost); through the API, as bench/checkin.py sets it up:
a province in pilot, `BENCH_COST_BRANCHES` (10) branches, `BENCH_COST_MEMBERS` (400) members imported, a secretary
each, a meeting per branch starting in five minutes with an open vote and a published document; access tokens minted
with the development key. Then each operation in turn, every member once (sign-ins: the demo member,
`BENCH_COST_SIGN_INS` times), over 8 keep-alive connections. For each, the CPU time (user + system, from
/proc/<pid>/stat) every service process and the RabbitMQ node spent from the first request until the suite is idle
again (what the requests set off — events, relays, notify's messages — counted with them), divided by the number of
requests: CPU milliseconds per request, per process. Wall-clock speed on a shared machine varies; CPU time per
request varies far less, and it is what capacity planning needs.
"""

import os

os.environ["BENCH_BURST_MEMBERS"] = os.environ.get("BENCH_COST_MEMBERS", "400")
os.environ["BENCH_BURST_BRANCHES"] = os.environ.get("BENCH_COST_BRANCHES", "10")
os.environ.setdefault("BENCH_GRASSROOTS", "2")
os.environ.setdefault("BENCH_CONNECTIONS", "8")

import json
import time
import warnings

from shared.demo import DEMO_PASSWORD
from bench import checkin
from bench.meter import Meter
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

SIGN_INS = int(os.environ.get("BENCH_COST_SIGN_INS", 200))
DEMO_SIGN_IN = {"citizen_id": "001000000002", "password": DEMO_PASSWORD}
ATTENDING, AGREE = {"response": "attending"}, {"choice": "agree"}


def measure(meter, name, send, jobs, base):
    before, began = meter.idle(), time.monotonic()
    seconds, latencies, statuses = checkin.fire(base, jobs, send)
    after, window = meter.idle(), time.monotonic() - began
    spent = meter.per_request(before, after, window, len(jobs))
    bad = {status: n for status, n in statuses.items() if status >= 400}
    return {"operation": name, "n": len(jobs), "wall_rps": len(jobs) / seconds, "cpu_ms": spent, "errors": bad}


def main():
    with throwaway_suite("sotay-costs") as started:
        base = started.base
        admin = wait_for(
            lambda: (
                checkin.client(base)
                .call("POST", "/auth/login", body={"citizen_id": checkin.ADMINISTRATOR, "password": DEMO_PASSWORD})[1]
                .get("access_token")
            ),
            timeout=60,
            interval=0.3,
            message="the administrator's sign-in",
        )
        people = checkin.make_people(started, admin)
        checkin.appoint_secretaries(started, admin, people)
        minter = checkin.Minter(started)
        tokens = {m: minter.token(m, c) for members in people.values() for m, c in members}
        meetings = checkin.schedule(started, tokens, people)
        secretaries = {branch: tokens[people[branch][0][0]] for branch in people}
        votes = {
            meetings[branch]: checkin.ok(
                base,
                "POST",
                f"/meetings/{meetings[branch]}/votes",
                secretaries[branch],
                {"question": "Thông qua nghị quyết tháng?"},
            )["id"]  # fmt: skip
            for branch in people
        }
        branch_of = {m: branch for branch, members in people.items() for m, _ in members}
        news = {"category": "news", "title": "Thông báo", "body": "Nội dung.", "audience": list(people)}
        document = checkin.ok(base, "POST", "/documents", admin, news)["id"]
        checkin.ok(base, "POST", f"/documents/{document}/publish", admin)
        codes = checkin.Codes(started, meetings, secretaries)
        members = [(m, tokens[m], meetings[branch_of[m]]) for m in branch_of]
        meter = Meter(started.suite.processes)
        rest = meter.background()

        def call(method, path, body=None):
            return lambda connection, job: connection.call(method, path(job), job[1], body(job) if body else None)[0]

        opinion = {"body": "Tôi đồng ý với dự thảo."}
        operations = [
            ("GET /me", call("GET", lambda j: "/me")),
            ("GET /documents (first page)", call("GET", lambda j: "/documents?limit=20")),
            ("GET /me/documents/unread-count", call("GET", lambda j: "/me/documents/unread-count")),
            ("GET /me/meetings", call("GET", lambda j: "/me/meetings")),
            ("GET /meetings/{id}", call("GET", lambda j: f"/meetings/{j[2]}")),
            ("POST /documents/{id}/read", call("POST", lambda j: f"/documents/{document}/read")),
            ("POST /meetings/{id}/rsvp", call("POST", lambda j: f"/meetings/{j[2]}/rsvp", lambda j: ATTENDING)),
            ("POST /meetings/{id}/check-in",
             call("POST", lambda j: f"/meetings/{j[2]}/check-in", lambda j: {"code": codes.codes[j[2]]})),
            ("POST /meetings/{id}/opinions", call("POST", lambda j: f"/meetings/{j[2]}/opinions", lambda j: opinion)),
            ("POST /votes/{id}/ballots", call("POST", lambda j: f"/votes/{votes[j[2]]}/ballots", lambda j: AGREE)),
        ]  # fmt: skip
        results = [measure(meter, name, send, members, base) for name, send in operations[:-1]]
        for branch in people:  # ballots are cast while the meeting is in progress
            checkin.ok(base, "POST", f"/meetings/{meetings[branch]}/start", secretaries[branch])
        results.append(measure(meter, *operations[-1], members, base))

        def sign_in(connection, _job):
            status, answer = connection.call("POST", "/auth/login", body=DEMO_SIGN_IN)
            if status == 200:
                connection.call("POST", "/auth/logout", answer["access_token"])
            return status

        results.append(measure(meter, "POST /auth/login (+ logout)", sign_in, list(range(SIGN_INS)), base))
        codes.stop.set()
    report(results, rest)


def report(results, rest):
    parts = list(results[0]["cpu_ms"])
    print(
        "\nat rest, CPU ms per second (taken off each window in proportion to its length): "
        + ", ".join(f"{part} {rest[part] * 1000:.1f}" for part in parts)
    )
    print(f"\nbench.costs — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: CPU ms per request, per process")
    print(f"{'operation':34} {'n':>5} " + " ".join(f"{p[:9]:>9}" for p in parts) + f" {'total':>7} {'errors':>7}")
    for row in results:
        total = sum(row["cpu_ms"].values())
        print(
            f"{row['operation']:34} {row['n']:5d} "
            + " ".join(f"{row['cpu_ms'][p]:9.2f}" for p in parts)
            + f" {total:7.2f} {sum(row['errors'].values()):7d}"
        )
    path = os.path.join("bench", "results")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "costs.json"), "w") as handle:
        json.dump({"at": time.time(), "rest": rest, "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
