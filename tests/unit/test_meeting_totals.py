"""Attendance as running totals: a held meeting is counted once (closed by an officer, or its end noticed by the
scheduler, however often), a late check-in adds itself, members moving take nothing along, organisations moving take
their totals along; after all that, the totals are what a recount of the meetings' own rows gives. And members absent
without a reason from three regular meetings in twelve months are flagged once per crossing."""

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shared.contracts.members import SECRETARY
from shared.errors import NotFound, ValidationError
from shared.tallies import chain
from services.meetings import attendance, domain, totals
from services.meetings.access import path_of
from services.meetings.models import Invitee, Meeting, attendance_totals, directory
from tests.support.worlds import published

# 19:30 on 5 May 2026 in Vietnam: a regular meeting of May, months before the real clock (invitee lists of
# meetings the real clock still sees ahead would follow members' moves)
BASE = datetime(2026, 5, 5, 12, 30, tzinfo=UTC)


@pytest.fixture
def commune(meetings_world):
    """A province, a commune (grassroots committee) with branches A, B and C (C holds no meetings), their
    secretaries and members, and an officer of the province."""
    world = meetings_world
    centre, province, grassroots, branch_a = world.chain()
    branch_b, branch_c = world.organization(grassroots), world.organization(grassroots)
    people = {"world": world, "province": province, "grassroots": grassroots, "branches": (branch_a, branch_b)}
    people["secretaries"] = {path: world.member(path, (SECRETARY, path)) for path in (branch_a, branch_b, branch_c)}
    people["members"] = {path: [world.member(path) for _ in range(3)] for path in (branch_a, branch_b, branch_c)}
    people["officer"] = world.member(province, (SECRETARY, province))
    return people


def _meeting(world, secretary, path, starts, kind="regular"):
    return world.schedule(secretary, path, now=starts - timedelta(hours=1), starts_at=starts, kind=kind)["id"]


def _check_in(world, runner, meeting_id, member_id, now):
    with world.uow.transaction():
        attendance.check_in(world.uow, runner, meeting_id, {"member_id": member_id}, now=now)


def _close(world, runner, meeting_id, now):
    with world.uow.transaction():
        domain.close_meeting(world.uow, runner, meeting_id, now=now)


def _report(world, member_id, organization_id, **query):
    with world.uow.transaction() as session:
        return totals.report(session, member_id, organization_id, query, now=BASE)


def recount(session):
    """Every counted meeting's figures added up from its invitees, per (month, organisation): the totals' truth."""
    figures = defaultdict(lambda: {"meetings": 0, "invited": 0, "attended": 0})
    for meeting in session.scalars(select(Meeting).where(Meeting.counted_at.is_not(None))):
        invitees = session.scalars(select(Invitee).where(Invitee.meeting_id == meeting.id)).all()
        for organization_id, _ in chain(path_of(session, meeting)):
            row = figures[(totals.month_of(meeting.starts_at), organization_id)]
            row["meetings"] += 1
            row["invited"] += len(invitees)
            row["attended"] += sum(1 for invitee in invitees if invitee.checked_in_at is not None)
    return dict(figures)


def kept(session):
    rows = session.scalars(select(attendance_totals.Row)).all()
    return {
        (row.subject, row.organization_id): {"meetings": row.meetings, "invited": row.invited, "attended": row.attended}
        for row in rows
        if row.meetings or row.invited or row.attended
    }


def test_a_meeting_closed_by_an_officer_counts_once_and_the_report_reads_it(commune):
    world, (branch_a, _) = commune["world"], commune["branches"]
    secretary = commune["secretaries"][branch_a]
    meeting = _meeting(world, secretary, branch_a, BASE)
    for member in commune["members"][branch_a][:2]:
        _check_in(world, secretary, meeting, member, BASE + timedelta(minutes=5))
    _close(world, secretary, meeting, BASE + timedelta(minutes=90))
    assert totals.count_due(world.uow, now=BASE + timedelta(days=1)) == 0  # the scheduler finds it counted
    grassroots_id = int(commune["grassroots"].rstrip("/").rsplit("/", 1)[1])
    answer = _report(world, commune["officer"], grassroots_id, month="2026-05")
    # invited: the secretary and three members; attended: two
    assert answer["month"] == "2026-05"
    assert {key: answer[key] for key in ("meetings", "invited", "attended")} == {
        "meetings": 1,
        "invited": 4,
        "attended": 2,
    }
    (child,) = answer["children"]  # B and C counted nothing: the gateway adds their zeros
    assert child["organization_id"] == int(branch_a.rstrip("/").rsplit("/", 1)[1]) and child["attended"] == 2
    assert _report(world, commune["officer"], grassroots_id, month="2026-04")["meetings"] == 0


def test_the_scheduler_counts_a_meeting_whose_end_passed_not_a_cancelled_one_nor_one_still_running(commune):
    world, (branch_a, branch_b) = commune["world"], commune["branches"]
    held = _meeting(world, commune["secretaries"][branch_a], branch_a, BASE)
    cancelled = _meeting(world, commune["secretaries"][branch_b], branch_b, BASE)
    with world.uow.transaction():
        domain.cancel_meeting(
            world.uow, commune["secretaries"][branch_b], cancelled, "Bão", now=BASE - timedelta(minutes=30)
        )
    running = _meeting(world, commune["secretaries"][branch_b], branch_b, BASE + timedelta(hours=3))
    assert totals.count_due(world.uow, now=BASE + timedelta(hours=4)) == 1
    assert totals.count_due(world.uow, now=BASE + timedelta(hours=4)) == 0  # a second pass: nothing twice
    assert world.meeting(held).counted_at is not None
    assert world.meeting(cancelled).counted_at is None and world.meeting(running).counted_at is None


def test_a_check_in_sent_late_after_the_count_adds_itself(commune):
    world, (branch_a, _) = commune["world"], commune["branches"]
    meeting = _meeting(world, commune["secretaries"][branch_a], branch_a, BASE)
    member = commune["members"][branch_a][0]
    scanned = BASE + timedelta(minutes=10)
    totals.count_due(world.uow, now=BASE + timedelta(hours=3))
    code = attendance.code_at(world.meeting(meeting).secret, scanned)
    with world.uow.transaction():  # back in range after the meeting: valid at `at`, inside the window
        attendance.check_in(world.uow, member, meeting, {"code": code, "at": scanned}, now=BASE + timedelta(hours=5))
    with world.uow.transaction() as session:
        assert kept(session) == recount(session)
        branch = int(branch_a.rstrip("/").rsplit("/", 1)[1])
        assert attendance_totals.subtree(session, "2026-05", branch_a)["attended"] == 1
        assert session.get(directory.Organization, branch) is not None


def test_totals_equal_a_recount_after_meetings_check_ins_moves_and_repeated_passes(commune):
    world, (branch_a, branch_b) = commune["world"], commune["branches"]
    rng = random.Random(12)
    other_commune = world.organization(commune["province"])
    world.member(other_commune)  # the directory knows it
    for month in range(4):
        for path in (branch_a, branch_b):
            secretary = commune["secretaries"][path]
            starts = BASE + timedelta(days=30 * month)
            meeting = _meeting(world, secretary, path, starts)
            invited = world.session.scalars(select(Invitee.member_id).where(Invitee.meeting_id == meeting)).all()
            for member in invited:
                if rng.random() < 0.6:
                    _check_in(world, secretary, meeting, member, starts + timedelta(minutes=rng.randint(0, 60)))
            if rng.random() < 0.5:
                _close(world, secretary, meeting, starts + timedelta(minutes=100))
            for _ in range(2):  # the scheduler, twice (two replicas, or a pass repeated)
                totals.count_due(world.uow, now=starts + timedelta(hours=3))
        mover = commune["members"][branch_a][month % 3]
        world.snapshot(mover, branch_b if month % 2 == 0 else branch_a)  # members move: their past stays
    with world.uow.transaction() as session:
        assert kept(session) == recount(session)
        before = attendance_totals.subtree(session, ["2026-05", "2026-06"], branch_b)
    # branch B moves to another commune: its totals leave this commune and join that one
    moved = other_commune + branch_b.rstrip("/").rsplit("/", 1)[1] + "/"
    world.snapshot(commune["secretaries"][branch_b], moved)
    with world.uow.transaction() as session:
        assert kept(session) == recount(session)
        assert attendance_totals.subtree(session, ["2026-05", "2026-06"], other_commune) == before


def test_the_report_is_for_the_subtrees_officers_only(commune):
    world, (branch_a, branch_b) = commune["world"], commune["branches"]
    grassroots_id = int(commune["grassroots"].rstrip("/").rsplit("/", 1)[1])
    branch_a_id = int(branch_a.rstrip("/").rsplit("/", 1)[1])
    for outsider in (commune["members"][branch_a][0], commune["secretaries"][branch_b]):
        with pytest.raises(NotFound):
            _report(world, outsider, branch_a_id)
    with pytest.raises(NotFound):
        _report(world, commune["secretaries"][branch_a], grassroots_id)  # a branch's secretary, not the commune's
    with pytest.raises(NotFound):
        _report(world, commune["officer"], 999_999)
    assert _report(world, commune["secretaries"][branch_a], branch_a_id)["month"] == "2026-05"  # Vietnam's month
    assert _report(world, commune["officer"], grassroots_id, year=2026)["month"] == "2026"
    with pytest.raises(ValidationError):
        _report(world, commune["officer"], grassroots_id, year=2026, month="2026-05")


def test_the_month_is_vietnams():
    # 23:30 on 30 November UTC is 06:30 on 1 December in Vietnam
    assert totals.month_of(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "2026-12"


def test_three_absences_without_a_reason_are_flagged_once_per_crossing(commune):
    world, (branch_a, _) = commune["world"], commune["branches"]
    secretary = commune["secretaries"][branch_a]
    absent, excused, present = commune["members"][branch_a]
    for month in range(5):
        starts = BASE + timedelta(days=30 * month)
        meeting = _meeting(world, secretary, branch_a, starts)
        with world.uow.transaction():
            attendance.answer(
                world.uow,
                excused,
                meeting,
                {"response": "absent", "reason": "Công tác"},
                now=starts - timedelta(minutes=30),
            )
        _check_in(world, secretary, meeting, present, starts)
        _check_in(world, secretary, meeting, secretary, starts)
        if month == 1:  # a thematic meeting missed too: not a regular one, not counted for the flag
            thematic = _meeting(world, secretary, branch_a, starts + timedelta(days=2), kind="thematic")
            totals.count_due(world.uow, now=starts + timedelta(days=3))
            assert world.meeting(thematic).counted_at is not None
        totals.count_due(world.uow, now=starts + timedelta(hours=3))
        totals.count_due(world.uow, now=starts + timedelta(hours=3))
    (flag,) = published(world.uow, "meetings.absences_flagged")  # the third meeting crossed; the 4th and 5th did not
    assert flag["member_id"] == absent and flag["count"] == 3 and len(flag["meeting_ids"]) == 3
    assert flag["organization_id"] == int(branch_a.rstrip("/").rsplit("/", 1)[1])
    assert flag["organization_path"] == branch_a
