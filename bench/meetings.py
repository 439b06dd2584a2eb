"""`python -m bench.meetings`: the month's regular meetings scheduled for every branch, and the attendance report read
from its running totals, on SQLite and PostgreSQL (`BENCH_BACKENDS=sqlite,postgresql`; the server at
`BENCH_POSTGRES_URL`, in a database made and dropped here).

1. Scheduling, through the domain (`domain.schedule_meeting`, one transaction per meeting, as its RPC runs it):
   `BENCH_MEETING_BRANCHES` branches (2,000) of 56 members each plus a secretary, filled into meetings' directory the
   way members' events leave it; every branch's secretary schedules the month's regular meeting. Prints meetings/s
   and invitations/s, checks that every meeting invited exactly its branch's members, and extrapolates to the
   country (98,940 branches, 5.6 M members) at the measured rate.
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
from bench.tallies import country
from services.meetings import domain, totals
from services.meetings.models import Base, Invitee, Meeting, attendance_totals, directory

SCHEDULED_BRANCHES = int(os.environ.get("BENCH_MEETING_BRANCHES", 2_000))
BRANCH_SIZE = 56
NATIONAL_BRANCHES, NATIONAL_MEMBERS = 98_940, 5_600_000
BRANCHES = int(os.environ.get("BENCH_BRANCHES", 100_000))
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def last(path):
    return int(path.rstrip("/").rsplit("/", 1)[1])


def fill_directory(session, province_paths, branch_paths, size=BRANCH_SIZE):
    """Organisations, members and each branch's secretary, as meetings' directory holds them after members' events;
    returns {branch id: secretary id}."""
    paths = {"/1/", *province_paths, *branch_paths, *(path.rsplit("/", 2)[0] + "/" for path in branch_paths)}
    session.execute(insert(directory.Organization), [{"id": last(p), "path": p, "rollout": "live"} for p in paths])
    members, positions, secretaries = [], [], {}
    ids = iter(range(10**7, 10**9))
    for path in branch_paths:
        for n in range(size + 1):
            member_id = next(ids)
            members.append(
                {
                    "member_id": member_id,
                    "organization_id": last(path),
                    "organization_path": path,
                    "status": "official",
                    "in_party": True,
                    "full_name": f"Đảng viên {member_id}",
                }
            )
            if n == 0:
                secretaries[last(path)] = member_id
                positions.append(
                    {
                        "member_id": member_id,
                        "organization_id": last(path),
                        "role": SECRETARY,
                        "organization_path": path,
                    }
                )
    for start in range(0, len(members), 10_000):
        session.execute(insert(directory.Membership), members[start : start + 10_000])
    session.execute(insert(directory.Position), positions)
    session.commit()
    return secretaries


def measure_scheduling(engine, label):
    _, branch_paths = country(SCHEDULED_BRANCHES)
    province_paths = sorted({"/".join(path.split("/")[:3]) + "/" for path in branch_paths})
    with Session(engine) as session:
        secretaries = fill_directory(session, province_paths, branch_paths)
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
    started = time.perf_counter()
    for branch_id, secretary in secretaries.items():
        with unit.transaction():
            domain.schedule_meeting(unit, secretary, branch_id, data, now=NOW)
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
    print(f"\n{label}: {len(secretaries):,} branches' meetings scheduled in {seconds:.1f} s")
    print(f"  {rate:,.0f} meetings/s, {invitations / seconds:,.0f} invitations/s; lists wrong: {len(wrong)}")
    print(
        f"  the country at this rate: {NATIONAL_BRANCHES / rate / 60:.1f} min for {NATIONAL_BRANCHES:,} meetings "
        f"({NATIONAL_MEMBERS:,} invitations)"
    )
    unit.close()
    return rate, wrong


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
    return run_on_backends(scheduling, "meetings") or run_on_backends(report, "attendance")


if __name__ == "__main__":
    sys.exit(main())
