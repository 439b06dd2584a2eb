"""`python -m bench.tallies`: a committee's report read from running totals at national scale.

Fills a tally (shared/tallies.py) for a tree of the country's shape — the centre, 34 provinces, `BENCH_BRANCHES`
branches (100,000) two to a grassroots committee (so a province holds about 4,500 organisations) — with
`BENCH_SUBJECTS` subjects (4: documents, or months) counted in every branch, on SQLite and on PostgreSQL
(`BENCH_BACKENDS=sqlite,postgresql`; the server at `BENCH_POSTGRES_URL`, in a database made and dropped here).
Then times, each `BENCH_SAMPLES` times (200) on a random province: `by_child` for one subject (a province's communes,
the report's table), `by_child` over every subject (a year of months), `subtree` (the province's own row), the
centre's `by_child` (34 rows), and a member's contribution added in a transaction of its own. Prints p50 and p95 in
ms, and the query plan of a province's `by_child`. Target: a province's report p95 < 100 ms.
"""

import os
import random
import sys
import time

from sqlalchemy import Column, Integer, MetaData, text
from sqlalchemy.orm import DeclarativeBase, Session

from shared.tallies import Tally
from bench.backends import run_on_backends, timed

BRANCHES = int(os.environ.get("BENCH_BRANCHES", 100_000))
SUBJECTS = int(os.environ.get("BENCH_SUBJECTS", 4))
PROVINCES = 34


class Base(DeclarativeBase):
    metadata = MetaData()


reads = Tally(Base, "bench_document_totals", subject=Column(Integer), counts=("audience", "read", "passed"))


def country(branches=BRANCHES, provinces=PROVINCES):
    """(province paths, branch paths): the centre is 1, then provinces, grassroots committees and branches."""
    ids = iter(range(2, 10**9))
    province_paths = [f"/1/{next(ids)}/" for _ in range(provinces)]
    branch_paths = []
    for n in range(branches // 2):
        grassroots = f"{province_paths[n % provinces]}{next(ids)}/"
        branch_paths += [f"{grassroots}{next(ids)}/", f"{grassroots}{next(ids)}/"]
    return province_paths, branch_paths


def fill(session, tally, branch_paths, subjects=SUBJECTS, seed=1):
    """Every branch's members counted for every subject (a branch of 56, a share of them read and passed)."""
    rng = random.Random(seed)
    contributions = []
    for path in branch_paths:
        for subject in range(1, subjects + 1):
            read = rng.randint(0, 56)
            contributions.append((subject, path, {"audience": 56, "read": read, "passed": rng.randint(0, read)}))
    tally.rebuild(session, contributions)
    session.commit()


def plan(session, statement):
    sql = str(statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    if session.get_bind().dialect.name == "postgresql":
        return [row[0] for row in session.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}"))]
    return [row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]


def measure(engine, label):
    province_paths, branch_paths = country()
    Base.metadata.create_all(engine)
    started = time.perf_counter()
    with Session(engine) as session:
        fill(session, reads, branch_paths)
        session.execute(text("ANALYZE"))
        session.commit()
        rows = session.execute(text(f"SELECT count(*) FROM {reads.name}")).scalar()
    print(f"\n{label}: {rows:,} rows filled in {time.perf_counter() - started:.1f} s")
    rng = random.Random(2)
    every = list(range(1, SUBJECTS + 1))
    with Session(engine) as session:
        print(
            "  plan of a province's by_child:", *plan(session, reads.children_query(1, province_paths[0])), sep="\n    "
        )
        results = {
            "province by_child, one subject": timed(
                lambda: reads.by_child(session, rng.randint(1, SUBJECTS), rng.choice(province_paths))
            ),
            f"province by_child, {SUBJECTS} subjects summed": timed(
                lambda: reads.by_child(session, every, rng.choice(province_paths))
            ),
            "province subtree": timed(lambda: reads.subtree(session, 1, rng.choice(province_paths))),
            "centre by_child (34 rows)": timed(lambda: reads.by_child(session, 1, "/1/")),
        }
        session.rollback()

    def add():
        with Session(engine) as session:
            path = rng.choice(branch_paths)
            reads.add(session, rng.randint(1, SUBJECTS), int(path.strip("/").split("/")[-1]), path, read=1)
            session.commit()

    results["a contribution added (own commit)"] = timed(add)
    with Session(engine) as session:
        children = len(reads.by_child(session, 1, province_paths[0]))
    print(f"  a province has {children:,} children here")
    for what, (p50, p95) in results.items():
        print(f"  {what:<40} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    return results


def main():
    return run_on_backends(measure, "tallies")


if __name__ == "__main__":
    sys.exit(main())
