"""What the database benchmarks share: the backends they run on, a throw-away database on each, and timing."""

import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager

from sqlalchemy import create_engine

from tests.support.postgres import scratch_database

SAMPLES = int(os.environ.get("BENCH_SAMPLES", 200))
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def timed(call, samples=SAMPLES):
    """(p50, p95) in milliseconds of `samples` calls."""
    seconds = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return statistics.median(seconds) * 1000, seconds[int(len(seconds) * 0.95) - 1] * 1000


@contextmanager
def scratch_engine(backend, name):
    """An engine on an empty database of its own: a SQLite file in a temporary folder, or a PostgreSQL database
    dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine(f"sqlite:///{folder}/{name}.db")
            try:
                yield engine
            finally:
                engine.dispose()
    else:
        with scratch_database(f"sotay_bench_{name}", PG_SERVER) as url:
            engine = create_engine(url)
            try:
                yield engine
            finally:
                engine.dispose()


def run_on_backends(measure, name):
    """`measure(engine, label)` on each of BENCH_BACKENDS; the exit status."""
    for backend in BACKENDS:
        if backend not in LABELS:
            print(f"unknown backend {backend}", file=sys.stderr)
            return 1
        with scratch_engine(backend, name) as engine:
            measure(engine, LABELS[backend])
    return 0
