"""`python -m bench.broker_drops`: does sign-in recover from broker connection drops (issue 9, item 9)?

Starts the suite as bench/run.py does, times the demo member's sign-in through the gateway for BASELINE
seconds (one client, back to back), then drops every connection of the suite's vhost from the broker's side
DROPS times over DROP_SPAN seconds (`tests/support/rabbit.py::close_connections`) and times sign-in for AFTER
seconds after the last drop. With BENCH_IMPORT=N, an import of N new members completes just before the
drops, so identity and notify are re-reading them from members while the connections drop. Prints median,
p95 and max of each phase, and five-second windows after the drops.
"""

import os
import statistics
import threading
import time
import warnings

from bench.enumeration import call, get_json
from tests.support import rabbit
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

BASELINE = float(os.environ.get("BENCH_BASELINE", 10))
DROPS = int(os.environ.get("BENCH_DROPS", 15))
DROP_SPAN = float(os.environ.get("BENCH_DROP_SPAN", 18))
AFTER = float(os.environ.get("BENCH_AFTER", 45))
IMPORT = int(os.environ.get("BENCH_IMPORT", 0))
DEMO = {"citizen_id": "001000000002", "password": "sotay-demo-2026"}


def sign_ins(url, seconds, samples):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, took = call(url, DEMO)
        samples.append((time.monotonic(), status, took))


def run_import(base, rows):
    """Import `rows` new members (demo branch G001-B1) and wait until members has finished it."""
    import urllib.request

    admin = get_json(f"{base}/auth/login", {"citizen_id": "001000000000", "password": DEMO["password"]})
    token = admin["access_token"]
    header = (
        "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,"
        "official_date,organization_code,status\n"
    )
    body = header + "".join(
        f"00108{8 + n // 500_000}{100_000 + n:06d},Đỗ Văn Tâm,1988-08-08,Nam,,,,2012-01-01,"
        f"2013-01-01,G001-B1,chính thức\n"
        for n in range(rows)
    )
    request = urllib.request.Request(
        f"{base}/imports",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        import json

        job_id = json.load(response)["id"]
    job = wait_for(
        lambda: (lambda j: j if j["status"] != "running" else None)(get_json(f"{base}/imports/{job_id}", token=token)),
        timeout=600,
        interval=1,
        message="the import",
    )
    print(f"import: {job['status']}, {job.get('accepted')} accepted, {job.get('rejected')} rejected")


def summary(name, samples):
    times = sorted(took for _, _, took in samples)
    statuses = {status: sum(1 for _, s, _ in samples if s == status) for status in {s for _, s, _ in samples}}
    p95 = times[int(len(times) * 0.95) - 1] if times else 0
    print(
        f"{name:>16}: {len(times)} sign-ins, median {statistics.median(times) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, statuses {statuses}"
    )


def main():
    with throwaway_suite("sotay-bench-drops") as started:
        url = f"{started.base}/auth/login"
        wait_for(lambda: call(url, DEMO)[0] == 200, timeout=60, interval=0.2, message="the demo member")
        baseline = []
        sign_ins(url, BASELINE, baseline)
        if IMPORT:
            run_import(started.base, IMPORT)
        during, stop = [], threading.Event()
        client = threading.Thread(target=lambda: sign_ins(url, DROP_SPAN + 1, during))
        client.start()
        for _ in range(DROPS):
            rabbit.close_connections(started.amqp_uri)
            time.sleep(DROP_SPAN / DROPS)  # the fault's pace, not a synchronisation
        client.join()
        after_start = time.monotonic()
        after = []
        sign_ins(url, AFTER, after)
        stop.set()
    summary("before", baseline)
    summary("during the drops", during)
    summary("after the drops", after)
    for first in range(0, int(AFTER), 5):
        window = [took for at, _, took in after if first <= at - after_start < first + 5]
        if window:
            print(
                f"  {first:>3}–{first + 5:<3} s after: median {statistics.median(window) * 1000:.0f} ms, "
                f"max {max(window) * 1000:.0f} ms ({len(window)})"
            )


if __name__ == "__main__":
    main()
