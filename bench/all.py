"""`make bench`: every benchmark at this machine's scale, one after the other, each in a process of its own, with
how long each took and the whole run's length at the end (the target is under 15 minutes; the national data sets
are `make bench-national`, the soak `make soak`).

    python -m bench.all [part ...]      # e.g. python -m bench.all events checkin
"""

import os
import subprocess
import sys
import time

PARTS = (
    "run",
    "signin",
    "costs",
    "enumeration",
    "fanout",
    "publication",
    "import_reads",
    "tallies",
    "meetings",
    "checkin",
    "content",
    "attachments",
    "portal",
    "events",
)
TARGET_MINUTES = 15
# make bench's own sizes (each overridable from the environment): wrk runs of 10 s (bench.run's nine, bench.signin's
# three; p99 over 10,000 requests and more), 300 branches' meetings scheduled and 6,000 members checking in (the
# country's are make bench-national's), content's reads on 200,000 members, fan-outs and publications to 50,000,
# 5 s of each process's rest measured before a window. The whole: 12.6 min on a middling machine (a verify 23 ms of
# CPU; 2026-11-26 16:18, with 10,000 checking in), 23.6 min on the slowest kind seen (a verify 28-37 ms; 15:05).
DEFAULTS = {
    "BENCH_DURATION": "10s",
    "BENCH_REST_SECONDS": "5",
    "BENCH_MEETING_BRANCHES": "300",
    "BENCH_BURST_MEMBERS": "6000",
    "BENCH_BURST_BRANCHES": "150",
    "BENCH_MEMBERS": "200000",
    "BENCH_READS": "300000",
    "BENCH_FANOUT": "50000",
    "BENCH_PUBLICATION": "50000",
    "BENCH_IMPORT_ROWS": "10000",
    "BENCH_EVENTS": "10000",
}


def main(argv):
    unknown = [part for part in argv if part not in PARTS]
    if unknown:
        raise SystemExit(f"no such part: {', '.join(unknown)} (parts: {', '.join(PARTS)})")
    took, failed = [], []
    started = time.monotonic()
    for part in argv or PARTS:
        began = time.monotonic()
        print(f"\n=== bench.{part} ===", flush=True)
        code = subprocess.call([sys.executable, "-m", f"bench.{part}"], env={**DEFAULTS, **os.environ})
        took.append((part, time.monotonic() - began))
        if code:
            failed.append(part)
    total = time.monotonic() - started
    print(f"\nmake bench — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}")
    for part, seconds in took:
        print(f"  bench.{part:<14} {seconds:7.1f} s{'   FAILED' if part in failed else ''}")
    print(f"  {'all':<20} {total:7.1f} s ({total / 60:.1f} min; target under {TARGET_MINUTES} min)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
