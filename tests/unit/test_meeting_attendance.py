"""Answers, check-in codes and windows, reminders: the meetings domain with the clock as an argument."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts.meetings import CheckInClosed, CheckInCodeInvalid, MeetingClosed
from shared.contracts.members import SECRETARY
from shared.db import utcnow
from shared.errors import Forbidden, NotFound, ValidationError
from services.meetings import attendance, domain, reminders
from tests.support.worlds import published


@pytest.fixture
def branch(meetings_world):
    world = meetings_world
    *_, path = world.chain()
    secretary = world.member(path, (SECRETARY, path))
    member = world.member(path)
    starts = utcnow() + timedelta(hours=3)
    meeting = world.schedule(secretary, path, starts_at=starts)
    outsider = world.member(world.organization(path.rsplit("/", 2)[0] + "/"))
    return {"secretary": secretary, "member": member, "outsider": outsider, "meeting": meeting["id"], "starts": starts}


def test_codes_are_rfc_6238_totp():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (its last six digits)
    assert attendance.code_at(b"12345678901234567890", datetime.fromtimestamp(59, UTC)) == "287082"
    assert attendance.code_at(b"12345678901234567890", datetime.fromtimestamp(1111111109, UTC)) == "081804"


def _check_in(world, caller, meeting_id, now, **data):
    with world.uow.transaction():
        return attendance.check_in(world.uow, caller, meeting_id, data, now=now)


def _code(world, meeting_id, moment):
    return attendance.code_at(world.meeting(meeting_id).secret, moment)


def test_a_member_checks_in_with_the_current_code_once_late_after_15_minutes(meetings_world, branch):
    world, meeting, starts = meetings_world, branch["meeting"], branch["starts"]
    now = starts + timedelta(minutes=16)
    answer, created = _check_in(world, branch["member"], meeting, now, code=_code(world, meeting, now))
    assert created and answer["late"] and answer["method"] == "code"
    again, created = _check_in(world, branch["member"], meeting, now + timedelta(minutes=1), code="000000")
    assert again == answer and not created  # a repeat answers the first, whatever its code
    (event,) = published(world.uow, "meetings.member_checked_in")
    assert event["member_id"] == branch["member"] and event["late"] is True


def test_on_time_within_15_minutes_and_the_previous_code_still_counts(meetings_world, branch):
    world, meeting, starts = meetings_world, branch["meeting"], branch["starts"]
    now = starts + timedelta(minutes=14)
    answer, _ = _check_in(
        world, branch["member"], meeting, now, code=_code(world, meeting, now - timedelta(seconds=30))
    )
    assert answer["late"] is False


@pytest.mark.parametrize("offset", [timedelta(minutes=-31), timedelta(hours=2, seconds=1)])
def test_outside_the_window_check_in_is_closed(meetings_world, branch, offset):
    world, meeting = meetings_world, branch["meeting"]
    now = branch["starts"] + offset
    with pytest.raises(CheckInClosed):
        _check_in(world, branch["member"], meeting, now, code=_code(world, meeting, now))
    with pytest.raises(CheckInClosed):
        attendance.current_code(world.session, branch["secretary"], meeting, now=now)


def test_a_wrong_or_expired_code_is_refused(meetings_world, branch):
    world, meeting = meetings_world, branch["meeting"]
    now = branch["starts"]
    with pytest.raises(CheckInCodeInvalid):
        _check_in(world, branch["member"], meeting, now, code=_code(world, meeting, now - timedelta(seconds=90)))


def test_a_check_in_made_offline_counts_at_its_time_if_its_code_was_valid_then(meetings_world, branch):
    world, meeting, starts = meetings_world, branch["meeting"], branch["starts"]
    scanned = starts - timedelta(minutes=5)
    later = starts + timedelta(minutes=40)
    answer, _ = _check_in(world, branch["member"], meeting, later, code=_code(world, meeting, scanned), at=scanned)
    assert answer["checked_in_at"] == scanned.isoformat() and answer["late"] is False
    with pytest.raises(ValidationError):
        _check_in(world, branch["secretary"], meeting, starts, code="123456", at=starts + timedelta(minutes=5))


def test_only_the_runners_see_the_code_and_check_members_in(meetings_world, branch):
    world, meeting = meetings_world, branch["meeting"]
    now = branch["starts"]
    shown = attendance.current_code(world.session, branch["secretary"], meeting, now=now)
    assert shown["qr"] == f"sotay:checkin:{meeting}:{shown['code']}"
    with pytest.raises(Forbidden):
        attendance.current_code(world.session, branch["member"], meeting, now=now)
    with pytest.raises(NotFound):
        attendance.current_code(world.session, branch["outsider"], meeting, now=now)
    with pytest.raises(Forbidden):
        _check_in(world, branch["member"], meeting, now, member_id=branch["secretary"])
    answer, _ = _check_in(world, branch["secretary"], meeting, now, member_id=branch["member"])
    assert answer["method"] == "officer"


def test_the_code_shows_to_whoever_runs_the_meeting_in_one_statement_and_the_rest_get_the_same_refusals(
    meetings_world,
):
    from sqlalchemy import event

    from shared.contracts.members import COMMITTEE_MEMBER, DEPUTY_SECRETARY

    world = meetings_world
    _, province, grassroots, branch = world.chain()
    secretary = world.member(branch, (SECRETARY, branch))
    runners = [
        secretary,
        world.member(branch, (DEPUTY_SECRETARY, branch)),
        world.member(grassroots, (SECRETARY, grassroots)),
        world.member(province, (COMMITTEE_MEMBER, province)),
    ]
    refused = {
        world.member(branch, (COMMITTEE_MEMBER, branch)): Forbidden,  # the branch's own committee does not run it
        world.member(branch): Forbidden,
        world.member(grassroots, (SECRETARY, world.organization(province))): NotFound,  # a sibling's officer
    }
    left = world.member(branch, (SECRETARY, grassroots))
    starts = utcnow() + timedelta(minutes=10)
    meeting = world.schedule(secretary, branch, starts_at=starts)["id"]
    world.snapshot(left, branch, status="resigned")
    refused[left] = NotFound  # out of the party: uninvited from what is to come, no position counts
    expected, statements = _code(world, meeting, starts), []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = world.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        for runner in runners:
            statements.clear()
            assert attendance.current_code(world.session, runner, meeting, now=starts)["code"] == expected
            assert len(statements) == 1, statements
        for caller, refusal in refused.items():
            with pytest.raises(refusal):
                attendance.current_code(world.session, caller, meeting, now=starts)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        world.session.rollback()


def test_absent_needs_a_reason_answers_change_until_the_start_and_officers_record_them(meetings_world, branch):
    world, meeting, member = meetings_world, branch["meeting"], branch["member"]
    now = branch["starts"] - timedelta(hours=1)

    def answer(who, **data):
        with world.uow.transaction():
            return attendance.answer(world.uow, who, meeting, data, now=data.pop("now", now))

    with pytest.raises(ValidationError):
        answer(member, response="absent")
    assert answer(member, response="absent", reason="Ốm")["reason"] == "Ốm"
    assert answer(member, response="attending")["recorded_by"] is None
    recorded = answer(branch["secretary"], response="absent", reason="Đi công tác", member_id=member)
    assert recorded["recorded_by"] == branch["secretary"]
    with pytest.raises(MeetingClosed):
        answer(member, response="attending", now=branch["starts"] + timedelta(minutes=1))
    with pytest.raises(NotFound):
        answer(branch["outsider"], response="attending")


def test_reminders_go_once_per_lead_and_a_meeting_within_the_hour_gets_only_the_1h_one(meetings_world, branch):
    world = meetings_world
    starts = branch["starts"]  # in 3 hours
    assert reminders.send_due(world.uow, now=starts - timedelta(hours=23)) == 1
    assert reminders.send_due(world.uow, now=starts - timedelta(hours=23)) == 0
    assert reminders.send_due(world.uow, now=starts - timedelta(minutes=59)) == 1
    assert reminders.send_due(world.uow, now=starts - timedelta(minutes=30)) == 0
    soon = world.schedule(
        branch["secretary"],
        world.meeting(branch["meeting"]).organization_path,
        starts_at=utcnow() + timedelta(minutes=50),
    )["id"]
    assert reminders.send_due(world.uow) == 1
    leads = [(e["meeting_id"], e["lead"]) for e in published(world.uow, "meetings.reminder_time_reached")]
    assert leads == [(branch["meeting"], "24h"), (branch["meeting"], "1h"), (soon, "1h")]


def test_a_member_sees_the_meetings_they_attended_and_missed(meetings_world, branch):
    world, meeting, starts = meetings_world, branch["meeting"], branch["starts"]
    with world.uow.transaction():
        attendance.answer(
            world.uow,
            branch["secretary"],
            meeting,
            {"response": "absent", "reason": "Họp cấp trên"},
            now=starts - timedelta(hours=1),
        )
    _check_in(world, branch["secretary"], meeting, starts, member_id=branch["member"])
    after = starts + timedelta(hours=3)
    period = {"from": None, "to": None}
    assert attendance.my_attendance(world.session, branch["member"], period, now=starts)["meetings"] == 0  # not over
    mine = attendance.my_attendance(world.session, branch["member"], period, now=after)
    assert (mine["meetings"], mine["attended"], mine["missed"]) == (1, 1, 0)
    theirs = attendance.my_attendance(world.session, branch["secretary"], period, now=after)
    assert (theirs["attended"], theirs["missed"], theirs["excused"]) == (0, 1, 1)
    assert theirs["items"][0]["meeting_id"] == meeting


def test_a_meeting_opened_early_by_its_secretary_opens_check_in_with_it(meetings_world, branch):
    world, meeting = meetings_world, branch["meeting"]  # starts in 3 hours
    now = utcnow()
    with pytest.raises(CheckInClosed):
        _check_in(world, branch["member"], meeting, now, code=_code(world, meeting, now))
    with world.uow.transaction():
        domain.start_meeting(world.uow, branch["secretary"], meeting, now=now)
    answer, _ = _check_in(world, branch["member"], meeting, now, code=_code(world, meeting, now))
    assert answer["late"] is False


def test_three_absences_without_a_reason_in_twelve_months_are_flagged_to_the_officers(meetings_world, branch):
    world = meetings_world
    path = world.meeting(branch["meeting"]).organization_path
    excused = world.member(path)
    meetings = [branch["meeting"]] + [world.schedule(branch["secretary"], path)["id"] for _ in range(2)]
    for meeting in meetings:
        with world.uow.transaction():
            attendance.answer(world.uow, excused, meeting, {"response": "absent", "reason": "Công tác xa"})
            domain.start_meeting(world.uow, branch["secretary"], meeting)
        _check_in(world, branch["secretary"], meeting, utcnow(), member_id=branch["secretary"])
        with world.uow.transaction():
            domain.close_meeting(world.uow, branch["secretary"], meeting)
    organization = int(path.rstrip("/").rsplit("/", 1)[1])
    flagged = attendance.absentees(world.session, branch["secretary"], organization)
    assert [(i["member_id"], i["absences"]) for i in flagged["items"]] == [(branch["member"], 3)]
    with pytest.raises(NotFound):
        attendance.absentees(world.session, branch["member"], organization)
