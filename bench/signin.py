"""`python -m bench.signin` (part of `make bench`): sign-ins beside the raw argon2id verify rate, identity on a core
of its own, as a deployment that gives it one would run it (issue 14, item 3).

identity runs under `taskset -c <its core>` (the last core this process may use); this process, and so every
other service, the development OpenID provider, wrk and py-spy, on the others. RabbitMQ keeps its own affinity.
Measured in one run:
- the raw rate: one thread of this process verifying the demo member's argon2id hash on identity's core, for
  `SIGNIN_RAW_SECONDS` (8) before and again after the load, while identity is idle (rate and CPU ms per verify);
- `POST /api/v1/auth/login` with the right password through the gateway, `wrk -t2 -c<SIGNIN_CONNECTIONS> (16)
  -d<BENCH_DURATION> (15s)`; meanwhile the CPU time of each of identity's threads (/proc/<pid>/task): the main
  thread is eventlet's hub, where everything but the hash runs (RPC, SQL, token signing, the hand-off); the others
  hash. Each part's CPU at rest (5 s before) is taken off. On a shared machine the wall-clock ratio is what others
  leave of the core; the verify's share of identity's CPU is the ratio identity reaches with the core to itself;
- a bare RPC to identity (`GET /auth/password-policy`: no SQL) for the RPC's own cost on the hub;
- the sign-ins again with identity's hashing thread moved to the other cores: the hub's cost without the hash
  taking turns with it on the core.
`PYSPY` (a py-spy binary; `none`, the default, to skip) samples identity during the first sign-in run into
`bench/results/profile-identity-signin.txt` (collapsed stacks, per thread).
"""

import os
import subprocess
import sys
import threading
import time
import warnings

from shared.demo import DEMO_PASSWORD
from bench import memory
from bench.meter import broker_pid
from bench.run import LOGIN_SCRIPT, ensure_wrk, get_json, parse_wrk
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

CONNECTIONS = int(os.environ.get("SIGNIN_CONNECTIONS", 16))
DURATION = os.environ.get("BENCH_DURATION", "15s")
RAW_SECONDS = float(os.environ.get("SIGNIN_RAW_SECONDS", 8))
REST_SECONDS = 5.0
PYSPY = os.environ.get("PYSPY", "none")
DEMO = {"citizen_id": "001000000002", "password": DEMO_PASSWORD}


def cores():
    """(identity's core, the others'): identity takes the last core this process may use."""
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        sys.exit("bench.signin: identity needs a core of its own, and this process may use only one")
    return mine[-1], set(mine[:-1])


def raw_verify_rate(core, seconds=RAW_SECONDS):
    """(verifies per second, CPU ms per verify) of the hash the suite stores, by one thread on `core` alone."""
    from services.identity.passwords import HASHER

    stored = HASHER.hash(DEMO_PASSWORD)
    result = {}

    def work():
        os.sched_setaffinity(0, {core})  # this thread only (Linux: 0 is the calling thread)
        HASHER.verify(stored, DEMO_PASSWORD)  # the first one pays the page faults of its 19 MiB
        done, started, cpu = 0, time.monotonic(), time.thread_time()
        while time.monotonic() - started < seconds:
            HASHER.verify(stored, DEMO_PASSWORD)
            done += 1
        result["rate"] = done / (time.monotonic() - started), (time.thread_time() - cpu) * 1000 / done

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return result["rate"]


def thread_cpu(pid):
    """{thread id: CPU seconds so far} of every thread of `pid`: schedstat's time on a CPU, in nanoseconds (the
    clock ticks of /proc/…/stat count 10 ms steps: over a 5 s rest, ±2 ms/s, ±0.1 ms on a sign-in's hub)."""
    spent = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
                spent[int(tid)] = int(handle.read().split()[0]) / 1e9
        except OSError:
            continue
    return spent


def switches(pid, tid):
    """How often the thread has been switched off its core so far: it waited (voluntary), or was preempted."""
    counts = {}
    with open(f"/proc/{pid}/task/{tid}/status") as handle:
        for line in handle:
            name, _, value = line.partition(":")
            counts[name] = value
    return int(counts["voluntary_ctxt_switches"]), int(counts["nonvoluntary_ctxt_switches"])


def process_cpu(processes):
    """{name: CPU seconds so far} of (name, Popen) pairs, each with what it started, and of the broker."""
    below = memory.children()
    spent = {name: sum(memory.cpu_seconds(p) for p in memory.tree(process.pid, below)) for name, process in processes}
    broker = broker_pid()
    if broker:
        spent["rabbitmq"] = memory.cpu_seconds(broker)
    return spent


def main():
    ensure_wrk()
    identity_core, others = cores()
    os.sched_setaffinity(0, others)  # what this process starts runs there too
    load = os.getloadavg()
    with throwaway_suite("sotay-signin", cpus={"identity": str(identity_core)}) as started:
        base = started.base
        wait_for(lambda: _signed_in(base), timeout=60, interval=0.3, message="sign-in")
        for _ in range(30):  # warm: connection pools, the hashing thread's arena, statement caches
            get_json(f"{base}/auth/login", DEMO)
            get_json(f"{base}/auth/password-policy")
        raw_before = raw_verify_rate(identity_core)
        rest = _rest(started)
        spy = _spy(started.suite.processes["identity"].pid)
        logins = _load(started, f"{base}/auth/login", rest, _script(started.data_dir))
        if spy:
            spy.wait()
        raw_after = raw_verify_rate(identity_core)
        bare = _load(started, f"{base}/auth/password-policy", rest)
        # the same sign-ins with identity's hashing threads moved off its core: what is left on the main thread
        # is its own cost, without the hash evicting its caches between requests
        identity = started.suite.processes["identity"].pid
        for tid in thread_cpu(identity):
            if tid != identity:
                os.sched_setaffinity(tid, others)
        apart = _load(started, f"{base}/auth/login", rest, _script(started.data_dir))
    report(identity_core, load, logins, bare, apart, (raw_before, raw_after), rest)


def _spent(started):
    """CPU seconds so far: identity's main thread, its other threads, and every other process (and the broker)."""
    identity = started.suite.processes["identity"].pid
    threads = thread_cpu(identity)
    hub = threads.get(identity, 0)
    others = process_cpu(
        (name, p) for name, p in started.suite.processes.items() if name not in ("identity", "vneid-dev")
    )
    waited, preempted = switches(identity, identity)
    return {
        "hub": hub,
        "hashing": sum(threads.values()) - hub,
        "hub_waits": waited,
        "hub_preempted": preempted,
        **others,
    }


def _rest(started, seconds=REST_SECONDS):
    """CPU seconds per second each part spends with no request (heartbeats, the outbox relay's poll, others' use
    of the shared broker): taken off what a measured run spent, in proportion to its length."""
    before, began = _spent(started), time.monotonic()
    time.sleep(seconds)
    after, took = _spent(started), time.monotonic() - began
    return {part: (after[part] - before[part]) / took for part in after}


def _load(started, url, rest, script=None):
    """wrk on `url`; CPU ms per request of identity's threads and of every other process meanwhile, rest taken off."""
    before, began = _spent(started), time.monotonic()
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "--timeout", "5s"]
    output = subprocess.run(
        [*command, *(["-s", script] if script else []), url], check=True, capture_output=True, text=True
    ).stdout
    after, took = _spent(started), time.monotonic() - began
    figures = parse_wrk(output)
    requests = figures["rps"] * float(DURATION.rstrip("s"))
    spent = {part: after[part] - before[part] for part in after}
    switched = {part: spent.pop(part) / requests for part in ("hub_waits", "hub_preempted")}
    return {
        **figures,
        **switched,
        "busy": (spent["hub"] + spent["hashing"]) / took,  # of identity's core
        "ms": {part: max(0.0, seconds - rest.get(part, 0) * took) * 1000 / requests for part, seconds in spent.items()},
    }


def _signed_in(base):
    try:
        return get_json(f"{base}/auth/login", DEMO)
    except Exception:
        return None


def _script(directory):
    path = os.path.join(directory, "signin.lua")
    with open(path, "w") as handle:
        handle.write(LOGIN_SCRIPT)
    return path


def _spy(pid):
    if PYSPY == "none":
        return None
    results = os.path.join("bench", "results")
    os.makedirs(results, exist_ok=True)
    seconds = str(int(float(DURATION.rstrip("s"))))
    return subprocess.Popen(
        [PYSPY, "record", "--nonblocking", "--threads", "-r", "200", "-d", seconds, "-f", "raw"]
        + ["-o", os.path.join(results, "profile-identity-signin.txt"), "--pid", str(pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def report(core, load, logins, bare, apart, raws, rest):
    raw = sum(rate for rate, _ in raws) / len(raws)
    verify_ms = sum(ms for _, ms in raws) / len(raws)
    ms = logins["ms"]
    identity_ms = ms["hub"] + ms["hashing"]
    print(
        f"\nsign-ins, identity alone on core {core} — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load average {load[0]:.1f} {load[1]:.1f} before"
    )
    print(
        f"POST /auth/login through the gateway (wrk -c{CONNECTIONS} -d{DURATION}): {logins['rps']:.1f}/s, "
        f"p50 {logins['p50_ms']:.0f} ms, p99 {logins['p99_ms']:.0f} ms, non-2xx {logins['non_2xx']}"
    )
    print(
        f"raw argon2id verifies, one thread on core {core}: "
        + ", ".join(f"{rate:.1f}/s ({ms:.2f} CPU ms each)" for rate, ms in raws)
        + " (before, after)"
    )
    print(f"ratio sign-ins ÷ raw verifies: {logins['rps'] / raw:.2f}× (target ≥ 0.9×)")
    print(
        f"identity's CPU per sign-in: {identity_ms:.2f} ms — hashing threads {ms['hashing']:.2f} ms, "
        f"main thread (everything else) {ms['hub']:.2f} ms; its core busy {logins['busy']:.0%} of the run; "
        f"at rest the main thread spends {rest['hub'] * 1000:.1f} ms/s (taken off); per sign-in the main thread "
        f"waited {logins['hub_waits']:.1f} times and was preempted {logins['hub_preempted']:.1f} times"
    )
    print(
        f"the verify's share of identity's CPU: {ms['hashing'] / identity_ms:.2f} (the ratio with the core to itself); "
        f"one raw verify ÷ identity's CPU per sign-in: {verify_ms / identity_ms:.2f}×"
    )
    print(
        f"a bare RPC to identity for comparison (GET /auth/password-policy, no SQL): {bare['rps']:.0f}/s, "
        f"identity's main thread {bare['ms']['hub']:.2f} CPU ms per request"
    )
    print(
        f"the same sign-ins with the hashing thread moved to the other cores: {apart['rps']:.1f}/s, identity's main "
        f"thread {apart['ms']['hub']:.2f} CPU ms per sign-in (preempted {apart['hub_preempted']:.1f} times each)"
    )
    for name, result in (("sign-in", logins), ("password policy", bare)):
        elsewhere = ", ".join(
            f"{part} {value:.2f}" for part, value in sorted(result["ms"].items()) if part not in ("hub", "hashing")
        )
        print(f"CPU ms per {name} on the other cores: {elsewhere}")


if __name__ == "__main__":
    main()
