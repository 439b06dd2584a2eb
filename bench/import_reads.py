"""`python -m bench.import_reads` (part of `make bench`): do reads wait for an import?

Starts the suite as bench/run.py does (members on SQLite, then on PostgreSQL unless `BENCH_BACKENDS=sqlite`), then
through the gateway, with `CLIENTS` client threads each alternating `GET /me` (the demo member) and
`GET /imports/{id}` (the administrator): first for `BASELINE_SECONDS` with nothing else running, then for as long as
a 20,000-row import (`BENCH_IMPORT_ROWS`) checks, stages and applies. Prints p50 and p99 of each in both phases,
and how long the import took. Target: p99 < 200 ms during the import.
"""

import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.request
import warnings

from sqlalchemy import create_engine, text

from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", 20_000))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 4))
BASELINE_SECONDS = float(os.environ.get("BENCH_BASELINE_SECONDS", 5))
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HEADER = (
    "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
    "organization_code,status\n"
)


def request(url, token, body=None, content_type="application/json"):
    """(status, seconds, JSON answer)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = content_type
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=30) as answer:
            status, payload = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    return status, time.perf_counter() - started, json.loads(payload or b"null")


def login(base, citizen_id):
    body = json.dumps({"citizen_id": citizen_id, "password": "sotay-demo-2026"}).encode()
    status, _, answer = request(f"{base}/auth/login", None, body)
    return answer["access_token"] if status == 200 else None


def export(rows):
    return (
        HEADER
        + "".join(
            f"001087{i:06d},Đỗ Văn Tâm,1987-07-07,Nam,,,,2012-01-01,2013-01-01,G001-B1,chính thức\n"
            for i in range(rows)
        )
    ).encode()


def sample(base, member, admin, job_id, until):
    """{"me": [...], "import": [...]} seconds per answer from CLIENTS threads until `until()`."""
    samples = {"me": [], "import": []}
    failures = []

    def client():
        while not until():
            for name, url, token in (("me", f"{base}/me", member), ("import", f"{base}/imports/{job_id}", admin)):
                status, seconds, _ = request(url, token)
                (samples[name] if status == 200 else failures).append(seconds if status == 200 else status)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    return samples


def p(values, q):
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")


def run(backend):
    env, admin_engine, name = {}, None, None
    if backend == "postgresql":
        name = f"sotay_bench_reads_{int(time.time())}"
        admin_engine = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        env["MEMBERS_DATABASE_URL"] = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        with throwaway_suite(f"sotay-bench-reads-{backend}", env=env) as started:
            base = started.base
            member = wait_for(lambda: login(base, "001000000002"), timeout=30, interval=0.2, message="sign-in")
            admin = login(base, "001000000000")
            # a finished job to read in the baseline
            _, _, small = request(f"{base}/imports?dry_run=true", admin, export(1), "text/csv")
            wait_for(
                lambda: request(f"{base}/imports/{small['id']}", admin)[2]["status"] == "completed",
                timeout=30,
                message="the small import",
            )
            stop = time.monotonic() + BASELINE_SECONDS
            quiet = sample(base, member, admin, small["id"], lambda: time.monotonic() > stop)

            status, _, job = request(f"{base}/imports", admin, export(ROWS), "text/csv")
            assert status == 202, job
            began = time.perf_counter()
            seen = {}

            def finished():
                _, _, current = request(f"{base}/imports/{job['id']}", admin)
                seen.update(current)
                return current["status"] in ("completed", "failed")

            during = sample(base, member, admin, job["id"], finished)
            took = time.perf_counter() - began
            assert seen["status"] == "completed" and seen["accepted"] == ROWS, seen
        return quiet, during, took
    finally:
        if admin_engine is not None:
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin_engine.dispose()


def main():
    backends = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
    print(f"Reads during a {ROWS:,}-row import ({CLIENTS} clients, GET /me and GET /imports/{{id}} in turn)")
    print("| backend | phase | GET /me p50 · p99 (n) | GET /imports/{id} p50 · p99 (n) | import |")
    print("| --- | --- | --- | --- | --- |")
    for backend in backends:
        quiet, during, took = run(backend)
        for phase, samples, duration in (("no import", quiet, ""), ("during the import", during, f"{took:.1f} s")):
            me, imports = samples["me"], samples["import"]
            print(
                f"| {backend} | {phase} | {p(me, 50):.1f} · {p(me, 99):.1f} ms ({len(me)}) | "
                f"{p(imports, 50):.1f} · {p(imports, 99):.1f} ms ({len(imports)}) | {duration} |"
            )


if __name__ == "__main__":
    main()
