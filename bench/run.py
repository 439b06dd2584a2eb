"""`make bench`: GET /api/v1/me, a member's two lists and a running meeting through the gateway beside a bare nameko
HTTP→RPC hop.

All run in this one invocation, on this machine, under the same load tool
(wrk, 50 connections), so the ratio between them is what to read. Each read twice: plain, and conditional
(`If-None-Match` with the ETag of the last answer: a revalidation the gateway answers 304 itself), each with the
CPU milliseconds per request of every process (from /proc, as bench.costs). `python -m bench.run me`: `GET /me`
alone, without the sign-ins; `python -m bench.run lists`: the document list (`GET /documents`), the meeting list
(`GET /me/meetings`) and the meeting running (`GET /meetings/{id}`, its screen's look every 15 s) alone;
`python -m bench.run meeting`: the meeting alone."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from datetime import UTC, datetime, timedelta

from bench import memory
from bench.meter import Meter
from tests.support.suite import throwaway_suite
from tests.support.waiting import free_port, wait_for

# seconds without a request before memory is read "at rest": identity gives its hashes' memory back once it has
# hashed nothing for 5 s, looking every 5 s (services/identity/passwords.py IDLE): 5-10 s after the last hash
AT_REST_SECONDS = 12

warnings.filterwarnings("ignore", category=DeprecationWarning)

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 50))
DURATION = os.environ.get("BENCH_DURATION", "15s")
THREADS = 2


def ensure_wrk():
    if shutil.which("wrk"):
        return
    print("bench: installing wrk (Debian package)", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, stdout=subprocess.DEVNULL)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)


def wrk(url, headers=(), connections=CONNECTIONS, script=None):
    command = ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{DURATION}", "--latency", "--timeout", "5s"]
    for header in headers:
        command += ["-H", header]
    if script:
        path = os.path.join(tempfile.gettempdir(), "sotay-bench.lua")
        with open(path, "w") as handle:
            handle.write(script)
        command += ["-s", path]
    output = subprocess.run(command + [url], check=True, capture_output=True, text=True).stdout
    return parse_wrk(output)


def _ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)}
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests": requests,
        "rps": rps,
        "p50_ms": percentiles["50"],
        "p99_ms": percentiles["99"],
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else None,
    }


LOGIN_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"citizen_id": "001000000002", "password": "sotay-demo-2026"}'
wrk.headers["Content-Type"] = "application/json"
"""


def get_json(url, body=None, headers=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **(headers or {})} if data is not None else headers or {}
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


DOCUMENTS, MEETINGS = 20, 5  # what the member's lists show (a first page of documents)
RUNNING = "/meetings/{running}"  # the first of them, started: what a member's screen looks at while it runs
READS = {"me": ["/me"], "lists": ["/documents", "/me/meetings", RUNNING], "meeting": [RUNNING]}


def main():
    part = sys.argv[1] if sys.argv[1:] in ([name] for name in READS) else None
    only_me = part is not None  # no sign-ins
    reads = READS[part] if part else READS["me"] + READS["lists"]
    ensure_wrk()
    echo_port = str(free_port())
    echo = []
    with throwaway_suite("sotay-bench") as started, open(os.path.join(started.data_dir, "echo.log"), "w") as log:
        try:
            for role in ("rpc", "http"):
                echo.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "bench.echo", role],
                        stdout=log,
                        stderr=log,
                        env={**os.environ, **started.env, "ECHO_PORT": echo_port, "PYTHONWARNINGS": "ignore"},
                    )
                )
            base = started.base
            echo_url = f"http://127.0.0.1:{echo_port}/echo"

            def signed_in(citizen_id="001000000002"):
                try:
                    return get_json(f"{base}/auth/login", {"citizen_id": citizen_id, "password": "sotay-demo-2026"})
                except Exception:
                    return None

            token = wait_for(signed_in, timeout=30, interval=0.3, message="sign-in")["access_token"]
            if reads != ["/me"]:
                secretary = wait_for(lambda: signed_in("001000000001"), timeout=30, message="the secretary's sign-in")
                running = furnish(base, token, secretary["access_token"])
                reads = [path.format(running=running) for path in reads]
            wait_for(lambda: _answers(echo_url), timeout=30, interval=0.2, message="the echo hop")
            signed = f"Authorization: Bearer {token}"
            # warm every path (JWKS fetch, connection pools) before measuring
            for _ in range(50):
                for path in reads:
                    get_json(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
                _answers(echo_url)
            shown = {path: get_json(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}) for path in reads}
            etags = {path: etag_of(f"{base}{path}", token) for path in reads}
            time.sleep(AT_REST_SECONDS)  # what "at rest" is: no request for a while
            at_rest = memory.resident(started.suite.processes)
            meter = Meter({**started.suite.processes, "echo rpc": echo[0], "echo http": echo[1]})
            baseline = metered(meter, lambda: wrk(echo_url))
            measured = {}
            with memory.Peaks(started.suite.processes) as peaks:
                for path in reads:
                    measured[path] = (
                        metered(meter, lambda p=path: wrk(f"{base}{p}", headers=[signed])),
                        metered(
                            meter, lambda p=path: wrk(f"{base}{p}", headers=[signed, f"If-None-Match: {etags[p]}"])
                        ),
                    )
                if not only_me:  # identity's memory under load is a sign-in wave's (its hashes)
                    logins = wrk(f"{base}/auth/login", connections=16, script=LOGIN_SCRIPT)
        finally:
            for process in echo:
                process.terminate()
            for process in echo:
                process.wait(timeout=20)
    report_reads(baseline, measured, shown)
    if not only_me:
        report_logins(logins)
    memory.report(at_rest, peaks.mb)


def furnish(base, token, secretary):
    """What a branch member's lists hold in a month or two: DOCUMENTS documents published to the demo member's
    branch by its secretary and MEETINGS meetings, the first starting in seconds, the others ahead; waits until
    both lists show them and the first has started. Answers the first's id."""
    me = get_json(f"{base}/me", headers={"Authorization": f"Bearer {token}"})
    by_secretary = {"Authorization": f"Bearer {secretary}"}
    branch = me["organization_id"]
    for n in range(DOCUMENTS):
        body = {"category": "resolution", "title": f"Nghị quyết số {n + 1}", "summary": "Tóm tắt nghị quyết",
                "body": "Toàn văn **nghị quyết** " * 20, "audience": [branch]}  # fmt: skip
        draft = get_json(f"{base}/documents", body, by_secretary)
        get_json(f"{base}/documents/{draft['id']}/publish", None, by_secretary, method="POST")
    now = datetime.now(UTC)
    scheduled = []
    for n in range(MEETINGS):
        starts = now + (timedelta(seconds=3) if n == 0 else timedelta(days=3 + 7 * n))
        body = {"title": f"Sinh hoạt chi bộ kỳ {n + 1}", "kind": "regular", "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(), "location": "Hội trường khu phố",
                "agenda": [{"title": "Kiểm điểm công tác", "document_ids": []}]}  # fmt: skip
        scheduled.append(get_json(f"{base}/organizations/{branch}/meetings", body, by_secretary)["id"])
    for path, count in (("/documents", min(DOCUMENTS, 20)), ("/me/meetings", MEETINGS)):
        wait_for(
            lambda p=path, c=count: (
                len(get_json(f"{base}{p}", headers={"Authorization": f"Bearer {token}"})["items"]) >= c
            ),
            timeout=30,
            message=f"{path} to show what was published",
        )
    running = f"{base}{RUNNING.format(running=scheduled[0])}"
    wait_for(
        lambda: get_json(running, headers={"Authorization": f"Bearer {token}"})["status"] == "in_progress",
        timeout=30,
        message="the first meeting to start",
    )
    return scheduled[0]


def metered(meter, run):
    """`run()`'s wrk figures with `cpu_ms`: each process's CPU milliseconds per request over the run."""
    before = meter.read()
    result = run()
    after = meter.read()
    result["cpu_ms"] = {part: (after[part] - before[part]) * 1000 / max(result["requests"], 1) for part in after}
    return result


def etag_of(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["ETag"]


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except Exception:
        return False


def report_reads(baseline, measured, shown):
    print(
        f"\nmake bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    rows = [("bare nameko HTTP→RPC echo hop (baseline)", baseline)]
    for path, (plain, conditional) in measured.items():
        rows += [
            (f"GET /api/v1{path} through the gateway", plain),
            (f"GET /api/v1{path}, If-None-Match (304)", conditional),
        ]
    print(f"{'path':48} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, result in rows:
        print(f"{name:48} {result['rps']:9.0f} {result['p50_ms']:8.1f} {result['p99_ms']:8.1f} {result['non_2xx']:8d}")
    for path, (plain, conditional) in measured.items():
        for name, result in ((path, plain), (f"{path} conditional", conditional)):
            print(
                f"ratio {name} ÷ baseline: throughput {result['rps'] / baseline['rps']:.2f}×, "
                f"p99 {result['p99_ms'] / baseline['p99_ms']:.2f}× (issue 14: ≥ 2.0× throughput, p99 < 100 ms)"
            )
    sizes = (f"{p} {len(a.get('items', [a]))} item(s), {len(json.dumps(a))} bytes" for p, a in shown.items())
    print("what each answers the demo member: " + "; ".join(sizes))
    parts = [part for part in baseline["cpu_ms"] if any(r["cpu_ms"][part] >= 0.005 for _, r in rows)]
    print(f"\nCPU ms per request {'':29}" + "".join(f"{part:>11}" for part in parts) + f"{'all':>9}")
    for name, result in rows:
        spent = [result["cpu_ms"][part] for part in parts]
        print(f"{name:48}" + "".join(f"{ms:11.2f}" for ms in spent) + f"{sum(spent):9.2f}")


def report_logins(logins):
    print(
        f"\nsign-ins through the gateway (16 connections), for identity's memory under load: {logins['rps']:.1f}/s, "
        f"p50 {logins['p50_ms']:.0f} ms, p99 {logins['p99_ms']:.0f} ms, non-2xx {logins['non_2xx']} (against the raw "
        "verify rate, identity on a core of its own: bench.signin)"
    )


if __name__ == "__main__":
    main()
