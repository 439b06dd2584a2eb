"""`python -m bench.profile`: where the CPU of `GET /me` goes, per process (issue 14), and what it costs each.

The suite as `make run` starts it; the demo member signs in; `GET /me` is warmed, then `wrk -t2 -c<PROFILE_CONNECTIONS>
(8) -d<PROFILE_SECONDS> (20)` runs while py-spy (`PYSPY`, default `py-spy`; install it outside the venv:
`pip install --target /tmp/pyspy py-spy`, then PYSPY=/tmp/pyspy/bin/py-spy) samples the gateway and members into
`bench/results/profile-<service>.txt` (collapsed stacks: `frame;frame;… count`). Printed: the wrk figures and each
process's CPU milliseconds per request over the run (its background work included). PYSPY=none: the costs alone.
"""

import os
import subprocess
import warnings

from shared.demo import DEMO_PASSWORD
from bench.memory import cpu_seconds as _cpu_seconds
from bench.run import get_json, parse_wrk
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

SECONDS = int(os.environ.get("PROFILE_SECONDS", 20))
CONNECTIONS = int(os.environ.get("PROFILE_CONNECTIONS", 8))
PYSPY = os.environ.get("PYSPY", "py-spy")
PROFILED = ("gateway", "members")


def main():
    results = os.path.join("bench", "results")
    os.makedirs(results, exist_ok=True)
    with throwaway_suite("sotay-profile") as started:
        base = started.base
        sign_in = {"citizen_id": "001000000002", "password": DEMO_PASSWORD}
        token = wait_for(lambda: get_json(f"{base}/auth/login", sign_in), timeout=60, interval=0.3)["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        for _ in range(100):
            get_json(f"{base}/me", headers=bearer)
        pids = {name: process.pid for name, process in started.suite.processes.items()}
        spies = [
            subprocess.Popen(
                [PYSPY, "record", "--nonblocking", "-r", "250", "-d", str(SECONDS), "-f", "raw"]
                + ["-o", os.path.join(results, f"profile-{name}.txt"), "--pid", str(pids[name])],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in (PROFILED if PYSPY != "none" else ())
        ]
        before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
        command = [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{SECONDS}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
        ]
        figures = parse_wrk(subprocess.run([*command, f"{base}/me"], capture_output=True, text=True).stdout)
        spent = {name: _cpu_seconds(pid) - before[name] for name, pid in pids.items()}
        for spy in spies:
            spy.wait()
    requests = figures["rps"] * SECONDS
    print(f"\nGET /me: {figures['rps']:.1f} req/s, p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms")
    for name, seconds in spent.items():
        print(f"{name:10} {seconds * 1000 / requests:6.2f} CPU ms per request")


if __name__ == "__main__":
    main()
