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


def main(argv):
    unknown = [part for part in argv if part not in PARTS]
    if unknown:
        raise SystemExit(f"no such part: {', '.join(unknown)} (parts: {', '.join(PARTS)})")
    took, failed = [], []
    started = time.monotonic()
    for part in argv or PARTS:
        began = time.monotonic()
        print(f"\n=== bench.{part} ===", flush=True)
        code = subprocess.call([sys.executable, "-m", f"bench.{part}"], env=os.environ)
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
