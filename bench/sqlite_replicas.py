"""Why replicas need PostgreSQL: a process whose write waits for another process's SQLite write lock stops whole.

One process holds a write transaction for HOLD seconds; another, patched by eventlet as every service is, writes
to the same file while a green thread ticks every 10 ms. SQLite waits for the lock inside C (busy_timeout), so the
ticker (standing for every RPC, reply, heartbeat and /health of that service) stops for the whole wait.
`python -m bench.sqlite_replicas` prints both figures.
"""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from sqlalchemy import text  # noqa: E402

from shared.db import make_engine  # noqa: E402

HOLD = 2.0
HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE"); db.execute("INSERT INTO t VALUES (1)")
print("holding", flush=True); time.sleep(float(sys.argv[2])); db.execute("COMMIT")
"""


def main():
    path = os.path.join(tempfile.mkdtemp(prefix="sotay-sqlite-replicas-"), "service.db")
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, path, str(HOLD)], stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    gaps = []

    def ticker():
        last = time.monotonic()
        while len(gaps) < int(HOLD * 200):
            eventlet.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticking = eventlet.spawn(ticker)
    eventlet.sleep(0.1)
    started = time.monotonic()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
    waited = time.monotonic() - started
    ticking.wait()
    holder.wait()
    print(f"the write waited {waited:.2f} s for the other process; the process stood still for {max(gaps):.2f} s")


if __name__ == "__main__":
    main()
