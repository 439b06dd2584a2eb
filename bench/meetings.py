"""`python -m bench.meetings`: the month's regular meetings scheduled for every branch, and the attendance report read
from its running totals, on SQLite and PostgreSQL (`BENCH_BACKENDS=sqlite,postgresql`; the server at
`BENCH_POSTGRES_URL`, in a database made and dropped here).

1. Scheduling, through the domain (`domain.schedule_meeting`, one transaction per meeting, as its RPC runs it):
   `BENCH_MEETING_BRANCHES` branches (2,000) of 56 members each plus a secretary, filled into meetings' directory the
   way members' events leave it; every branch's secretary schedules the month's regular meeting. Prints meetings/s
   and invitations/s, checks that every meeting invited exactly its branch's members, and extrapolates to the
   country (98,940 branches, 5.6 M members) at the measured rate. `BENCH_MEETING_BRANCHES=national` (make
   bench-national) schedules every branch of the country instead, 5.64 M invitations, nothing extrapolated;
   `BENCH_MEETINGS_PARTS=scheduling` leaves the report (part 2) to `make bench`; `BENCH_MEETING_SCHEDULE=N` has
   only the first N branches schedule (the directory stays the whole country's).
2. The report (`totals.report`, the RPC's domain function, an officer's rights checked): meetings' own attendance
   tally filled for `BENCH_BRANCHES` branches (100,000) and 12 months, as counting closed meetings leaves it; then
   `BENCH_SAMPLES` (200) reads of a random province for one month, and of the country for the year. p50 and p95 in
   ms. Target (issue 12): p95 < 100 ms.
"""

import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from shared.contracts.members import ADMIN_ROLE, SECRETARY
from shared.db import Database, UnitOfWork
from bench.backends import SAMPLES, run_on_backends, timed
from bench.fills import bulk, indexes_after, load, loading, vacuum
from bench.tallies import country
from services.meetings import domain, totals
from services.meetings.models import Base, Invitee, Meeting, attendance_totals, directory

NATIONAL_BRANCHES, NATIONAL_MEMBERS = 98_940, 5_600_000
# `national`: every branch of the country (make bench-national), 5.64 M members with their secretaries
SCHEDULED_BRANCHES = os.environ.get("BENCH_MEETING_BRANCHES", "2000")
SCHEDULED_BRANCHES = NATIONAL_BRANCHES if SCHEDULED_BRANCHES == "national" else int(SCHEDULED_BRANCHES)
# how many of those branches schedule (all by default): a national directory with fewer meetings, when the machine
# has no time for the whole country's
SCHEDULING = int(os.environ.get("BENCH_MEETING_SCHEDULE", 0)) or None
BRANCH_SIZE = 56
PROGRESS_EVERY = 5_000
BRANCHES = int(os.environ.get("BENCH_BRANCHES", 100_000))
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def last(path):
    return int(path.rstrip("/").rsplit("/", 1)[1])


def fill_directory(session, province_paths, branch_paths, size=BRANCH_SIZE):
    """Organisations, members and each branch's secretary, as meetings' directory holds them after members' events
    (through the driver, the path index built after: 5.6 M rows at national scale); returns {branch id: secretary
    id}."""
    paths = {"/1/", *province_paths, *branch_paths, *(path.rsplit("/", 2)[0] + "/" for path in branch_paths)}
    session.execute(insert(directory.Organization), [{"id": last(p), "path": p, "rollout": "live"} for p in paths])
    first = 10**7  # member ids: a branch's secretary, then its members
    secretaries = {last(path): first + n * (size + 1) for n, path in enumerate(branch_paths)}

    def members():
        for n, path in enumerate(branch_paths):
            for member_id in range(first + n * (size + 1), first + (n + 1) * (size + 1)):
                yield (member_id, last(path), path, "official", True, False, f"Đảng viên {member_id}")

    Membership = directory.Membership.__table__
    columns = ("member_id", "organization_id", "organization_path", "status", "in_party", "activated", "full_name")
    with indexes_after(session, Membership):
        bulk(session, Membership, columns, members(), "directory members")
    positions = [
        {"member_id": secretaries[last(path)], "organization_id": last(path), "role": SECRETARY,
         "organization_path": path}
        for path in branch_paths
    ]  # fmt: skip
    for start in range(0, len(positions), 10_000):
        session.execute(insert(directory.Position), positions[start : start + 10_000])
    session.commit()
    return secretaries


def measure_scheduling(engine, label):
    _, branch_paths = country(SCHEDULED_BRANCHES)
    province_paths = sorted({"/".join(path.split("/")[:3]) + "/" for path in branch_paths})
    started = time.perf_counter()
    with loading(engine) as session:
        secretaries = fill_directory(session, province_paths, branch_paths)
    vacuum(engine)
    print(f"\n{label}: {len(secretaries) * (BRANCH_SIZE + 1):,} members in meetings' directory, filled in "
          f"{time.perf_counter() - started:.0f} s; load {load()}", flush=True)  # fmt: skip
    database = Database(Base.metadata)
    database.use_engine(engine)
    unit = UnitOfWork(database, "bench", {})
    starts = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)
    data = {
        "title": "Sinh hoạt chi bộ tháng 12",
        "kind": "regular",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "location": "Hội trường",
        "online_url": None,
        "agenda": [{"title": "Tình hình tháng", "document_ids": []}],
        "repeat": None,
    }
    directory_size = len(secretaries)
    secretaries = dict(list(secretaries.items())[:SCHEDULING])
    analyze = autoanalyze(engine)
    started = time.perf_counter()
    for n, (branch_id, secretary) in enumerate(secretaries.items(), start=1):
        with unit.transaction():
            domain.schedule_meeting(unit, secretary, branch_id, data, now=NOW)
        analyze(n)
        if n % PROGRESS_EVERY == 0:
            seconds = time.perf_counter() - started
            print(f"  {n:,} meetings in {seconds:.0f} s, {n / seconds:,.0f}/s; load {load()}", flush=True)
    seconds = time.perf_counter() - started
    with Session(engine) as session:
        invited = dict(
            session.execute(
                select(Meeting.organization_id, text("count(*)"))
                .join(Invitee, Invitee.meeting_id == Meeting.id)
                .group_by(Meeting.organization_id)
            ).all()
        )
    wrong = [branch for branch in secretaries if invited.get(branch) != BRANCH_SIZE + 1]
    invitations = sum(invited.values())
    rate = len(secretaries) / seconds
    print(f"\n{label}: {len(secretaries):,} of {directory_size:,} branches' meetings scheduled in {seconds:.1f} s")
    print(f"  {rate:,.0f} meetings/s, {invitations / seconds:,.0f} invitations/s; lists wrong: {len(wrong)}")
    if len(secretaries) < NATIONAL_BRANCHES:  # not the whole country: extrapolated
        print(
            f"  the country at this rate: {NATIONAL_BRANCHES / rate / 60:.1f} min for {NATIONAL_BRANCHES:,} meetings "
            f"({NATIONAL_MEMBERS:,} invitations)"
        )
    print(f"  load after: {load()}")
    unit.close()
    return rate, wrong


def autoanalyze(engine):
    """What autovacuum does for the tables a run grows (statistics again once a table has grown by a tenth, its
    default scale factor), for a PostgreSQL server that runs without it, as this machine's does: on statistics
    taken when `invitees` was empty, the plans psycopg prepares read it whole for every meeting (31 meetings/s at
    5,000 on the country's directory, with the server busy on those reads)."""
    if engine.dialect.name != "postgresql":
        return lambda n: None
    with engine.connect() as conn:
        if conn.exec_driver_sql("SHOW autovacuum").scalar() == "on":
            return lambda n: None
    due = [50]

    def analyze(n):
        if n >= due[0]:
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE invitees, meetings, agenda_items, outbox")
                conn.commit()
            due[0] = int(n * 1.1) + 1

    return analyze


def measure_report(engine, label):
    province_paths, branch_paths = country(BRANCHES)
    rng = random.Random(3)
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    contributions = []
    for path in branch_paths:
        for month in months:
            invited = rng.randint(40, 60)
            contributions.append(
                (month, path, {"meetings": 1, "invited": invited, "attended": rng.randint(0, invited)})
            )
    started = time.perf_counter()
    with Session(engine) as session:
        attendance_totals.rebuild(session, contributions)
        organizations = [{"id": last(p), "path": p, "rollout": "live"} for p in ("/1/", *province_paths)]
        session.execute(insert(directory.Organization), organizations)
        officer = 9
        session.execute(
            insert(directory.Membership),
            [
                {
                    "member_id": officer,
                    "organization_id": 1,
                    "organization_path": "/1/",
                    "status": "official",
                    "full_name": "A",
                }
            ],
        )
        session.execute(
            insert(directory.Position),
            [{"member_id": officer, "organization_id": 1, "role": ADMIN_ROLE, "organization_path": "/1/"}],
        )
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
        rows = session.execute(text(f"SELECT count(*) FROM {attendance_totals.name}")).scalar()
    print(f"\n{label}: {rows:,} attendance rows (12 months) filled in {time.perf_counter() - started:.1f} s")
    with Session(engine) as session:
        results = {
            "province, a month": timed(
                lambda: totals.report(
                    session, officer, last(rng.choice(province_paths)), {"month": rng.choice(months)}, now=NOW
                ),
                SAMPLES,
            ),
            "country, a year": timed(lambda: totals.report(session, officer, 1, {"year": 2026}, now=NOW), SAMPLES),
        }
        session.rollback()
    for what, (p50, p95) in results.items():
        print(f"  {what:<20} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    return results


def scheduling(engine, label):
    Base.metadata.create_all(engine)
    measure_scheduling(engine, label)


def report(engine, label):
    Base.metadata.create_all(engine)
    measure_report(engine, label)


def main():
    if os.environ.get("BENCH_MEETINGS_PARTS", "scheduling,report") == "scheduling":  # make bench-national
        return run_on_backends(scheduling, "meetings")
    return run_on_backends(scheduling, "meetings") or run_on_backends(report, "attendance")


if __name__ == "__main__":
    sys.exit(main())
