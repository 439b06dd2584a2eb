"""meetings without a broker: who schedules, who is invited, times and repeats (the domain over SQLite)."""

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from shared.contracts.members import COMMITTEE_MEMBER, DEPUTY_SECRETARY, SECRETARY
from shared.db import utcnow
from shared.errors import Forbidden, NotFound, ValidationError
from services.meetings import attendance, domain, listing, privacy, schedule
from services.meetings.invitations import member_ids
from services.meetings.service import MeetingsService
from tests.support.meetings_world import org_id
from tests.support.services import assert_unhealthy_without_its_broker
from tests.support.worlds import published


def test_meetings_reports_itself_unhealthy_without_its_broker(monkeypatch):
    assert_unhealthy_without_its_broker(MeetingsService, monkeypatch)


@pytest.fixture
def tree(meetings_world):
    """A branch, its parent, a sibling branch and a party group (child) below it, each with a member."""
    world = meetings_world
    _, province, grassroots, branch = world.chain()
    sibling = world.organization(grassroots)
    child = world.organization(branch)
    for path in (province, grassroots, branch, sibling, child):
        world.member(path)
    return {"own": branch, "parent": grassroots, "grandparent": province, "sibling": sibling, "child": child}


RULES = [  # (role, where the position is) → what scheduling a meeting of the branch gives
    (SECRETARY, "own", None),
    (DEPUTY_SECRETARY, "own", None),
    (COMMITTEE_MEMBER, "own", Forbidden),  # the branch's own committee members do not schedule
    (SECRETARY, "parent", None),
    (DEPUTY_SECRETARY, "parent", None),
    (COMMITTEE_MEMBER, "parent", None),
    (COMMITTEE_MEMBER, "grandparent", None),
    (SECRETARY, "child", NotFound),  # a party group's secretary knows nothing of the branch's meetings
    (SECRETARY, "sibling", NotFound),
    (None, "own", Forbidden),  # a plain member of the branch: known, not theirs
    (None, "sibling", NotFound),
]


@pytest.mark.parametrize(("role", "where", "refused"), RULES)
def test_who_schedules_a_branch_meeting_is_a_matter_of_role_and_place(meetings_world, tree, role, where, refused):
    positions = [(role, tree[where])] if role else []
    officer = meetings_world.member(tree[where], *positions)
    if refused:
        with pytest.raises(refused):
            meetings_world.schedule(officer, tree["own"])
    else:
        meeting = meetings_world.schedule(officer, tree["own"])
        assert meeting["status"] == "scheduled"


def test_everyone_of_the_organisation_is_invited_probationary_included_and_told(meetings_world, tree):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    probationary = world.member(tree["own"], status="probationary")
    left = world.member(tree["own"], status="resigned")
    meeting = world.schedule(secretary, tree["own"])
    invited = member_ids(world.session, meeting["id"])
    assert secretary in invited and probationary in invited and left not in invited
    assert meeting["invited"] == len(invited) == 3  # with the branch's member of the fixture
    (event,) = published(world.uow, "meetings.meeting_scheduled")
    assert event["invitees"] == invited and event["meeting_id"] == meeting["id"]


def test_a_committee_meeting_invites_the_committee_only(meetings_world, tree):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    committee = world.member(tree["own"], (COMMITTEE_MEMBER, tree["own"]))
    world.member(tree["own"])
    meeting = world.schedule(secretary, tree["own"], kind="committee")
    assert member_ids(world.session, meeting["id"]) == sorted([secretary, committee])


def test_invitees_follow_joins_leaves_and_transfers_until_the_start_then_freeze(meetings_world, tree):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    moving = world.member(tree["own"])
    upcoming = world.schedule(secretary, tree["own"])["id"]
    started = world.schedule(secretary, tree["own"], starts_at=utcnow() + timedelta(minutes=20))["id"]
    with world.uow.transaction():
        domain.start_meeting(world.uow, secretary, started)

    newcomer = world.member(tree["own"])
    world.snapshot(moving, tree["sibling"])  # transferred to the sibling branch
    invited = member_ids(world.session, upcoming)
    assert newcomer in invited and moving not in invited
    frozen = member_ids(world.session, started)
    assert moving in frozen and newcomer not in frozen


def test_what_changes_a_meeting_with_no_news_for_its_invitees_is_said_for_the_lists_kept_elsewhere(
    meetings_world, tree
):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    member, moving = world.member(tree["own"]), world.member(tree["own"])
    meeting = world.schedule(secretary, tree["own"])["id"]
    told = {"meeting_id": meeting, "organization_id": org_id(tree["own"])}
    with world.uow.transaction():
        attendance.answer(world.uow, member, meeting, {"response": "attending"})  # the counts in every list
    assert published(world.uow, "meetings.meeting_updated") == [told]
    with world.uow.transaction():  # a transfer: the moving member's list loses it, and everyone's count
        domain.invitations_changed(world.uow, world.snapshot(moving, tree["sibling"]))
    assert published(world.uow, "meetings.meeting_updated")[1:] == [{**told, "member_ids": [moving]}]
    with world.uow.transaction():
        domain.start_meeting(world.uow, secretary, meeting)
        domain.close_meeting(world.uow, secretary, meeting)
    assert published(world.uow, "meetings.meeting_updated")[2:] == [told, told]


def test_a_new_committee_member_is_invited_to_the_coming_committee_meetings(meetings_world, tree):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    member = world.member(tree["own"])
    meeting = world.schedule(secretary, tree["own"], kind="committee")["id"]
    world.position(member, COMMITTEE_MEMBER, tree["own"])
    assert member in member_ids(world.session, meeting)
    world.position(member, COMMITTEE_MEMBER, tree["own"], action="removed")
    assert member not in member_ids(world.session, meeting)


@pytest.mark.parametrize(
    ("starts", "length", "field"),
    [
        (timedelta(days=1), timedelta(hours=-1), "ends_at"),  # ends before it starts
        (timedelta(days=1), timedelta(0), "ends_at"),
        (timedelta(days=366), timedelta(hours=2), "starts_at"),  # over a year ahead
        (timedelta(hours=-1), timedelta(hours=2), "starts_at"),  # in the past
    ],
)
def test_impossible_times_are_refused_per_field(meetings_world, tree, starts, length, field):
    secretary = meetings_world.member(tree["own"], (SECRETARY, tree["own"]))
    starts_at = utcnow() + starts
    with pytest.raises(ValidationError) as refused:
        meetings_world.schedule(secretary, tree["own"], starts_at=starts_at, ends_at=starts_at + length)
    assert field in refused.value.details


def test_a_meeting_needs_a_place_or_a_link(meetings_world, tree):
    secretary = meetings_world.member(tree["own"], (SECRETARY, tree["own"]))
    with pytest.raises(ValidationError) as refused:
        meetings_world.schedule(secretary, tree["own"], location=None)
    assert "location" in refused.value.details


VN = timedelta(hours=7)


@pytest.mark.parametrize(
    ("after", "day", "expected"),
    [
        (datetime(2026, 12, 1, tzinfo=UTC), 5, datetime(2026, 12, 5, 19, 30, tzinfo=UTC) - VN),
        (datetime(2026, 12, 5, 12, 30, tzinfo=UTC), 5, datetime(2027, 1, 5, 19, 30, tzinfo=UTC) - VN),
        (datetime(2027, 1, 31, 12, 30, tzinfo=UTC), 31, datetime(2027, 2, 28, 19, 30, tzinfo=UTC) - VN),
        (datetime(2028, 1, 31, 12, 30, tzinfo=UTC), 30, datetime(2028, 2, 29, 19, 30, tzinfo=UTC) - VN),
    ],
)
def test_a_repeat_falls_on_its_day_at_its_time_in_vietnam_or_the_months_last_day(after, day, expected):
    assert schedule.occurrence_after(after, day, "19:30") == expected


def test_a_repeating_meeting_is_made_three_months_ahead_and_rolled_forward_once(meetings_world, tree):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    first = world.schedule(
        secretary,
        tree["own"],
        now=now,
        starts_at=datetime(2026, 12, 5, 12, 30, tzinfo=UTC),
        repeat={"day": 5, "time": "19:30"},
    )
    starts = [event["starts_at"] for event in published(world.uow, "meetings.meeting_scheduled")]
    assert starts == [
        "2026-12-05T12:30:00+00:00",
        "2027-01-05T12:30:00+00:00",
        "2027-02-05T12:30:00+00:00",
    ]
    assert first["series_id"] is not None
    later = now + timedelta(days=40)
    assert schedule.roll_forward(world.uow, later, domain.add_meeting) == 2  # March and April: 92 days ahead
    assert schedule.roll_forward(world.uow, later, domain.add_meeting) == 0  # claimed: never twice


def test_times_sent_with_vietnams_offset_are_the_same_moments_afterwards(meetings_world, tree):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    vietnam = timezone(timedelta(hours=7))
    starts_at = (utcnow() + timedelta(days=2)).astimezone(vietnam).replace(microsecond=0)
    meeting = world.schedule(secretary, tree["own"], starts_at=starts_at)
    assert datetime.fromisoformat(meeting["starts_at"]) == starts_at
    assert (
        datetime.fromisoformat(listing.get_meeting(world.session, secretary, meeting["id"])["starts_at"]) == starts_at
    )
    window = {"cursor": None, "limit": 10}
    after = listing.my_meetings(
        world.session, secretary, {**window, "from": starts_at - timedelta(minutes=1), "to": None}
    )
    before = listing.my_meetings(world.session, secretary, {**window, "from": None, "to": starts_at})
    assert [m["id"] for m in after["items"]] == [meeting["id"]] and before["items"] == []


def test_meetings_and_invitees_come_in_pages_soonest_first(meetings_world, tree):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    ids = [
        world.schedule(secretary, tree["own"], starts_at=utcnow() + timedelta(days=days))["id"] for days in (3, 1, 2)
    ]
    first = listing.my_meetings(world.session, secretary, {"from": None, "to": None, "cursor": None, "limit": 2})
    rest = listing.my_meetings(
        world.session, secretary, {"from": None, "to": None, "cursor": first["next_cursor"], "limit": 2}
    )
    assert [m["id"] for m in first["items"] + rest["items"]] == [ids[1], ids[2], ids[0]]
    assert rest["next_cursor"] is None
    page = listing.invitees(world.session, secretary, ids[0], {"cursor": None, "limit": 1})
    second = listing.invitees(world.session, secretary, ids[0], {"cursor": page["next_cursor"], "limit": 1})
    assert [i["member_id"] for i in page["items"] + second["items"]] == member_ids(world.session, ids[0])
    assert page["items"][0]["full_name"].startswith("Đảng viên")
    with pytest.raises(NotFound):
        listing.organization_meetings(
            world.session,
            world.member(tree["sibling"]),
            org_id(tree["own"]),
            {"from": None, "to": None, "cursor": None, "limit": 10},
        )


def test_the_branch_sees_who_is_coming_and_only_officers_see_why_someone_is_absent(meetings_world, tree):
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    absent, other = world.member(tree["own"]), world.member(tree["own"])
    meeting = world.schedule(secretary, tree["own"])["id"]
    with world.uow.transaction():
        attendance.answer(world.uow, absent, meeting, {"response": "absent", "reason": "Điều trị bệnh"})

    def reasons(viewer):
        page = listing.invitees(world.session, viewer, meeting, {"cursor": None, "limit": 50})
        return {i["member_id"]: i["rsvp"]["reason"] for i in page["items"] if i["rsvp"]}

    assert reasons(secretary) == {absent: "Điều trị bệnh"}
    assert reasons(absent) == {absent: "Điều trị bệnh"}
    assert reasons(other) == {absent: None}


def test_a_page_of_meetings_costs_the_same_queries_whatever_its_length(meetings_world, tree):
    """Each meeting of a page once cost two queries of its own (the reader's invitation, the agenda): fifty a page
    took a list of the branch's meetings to ~100 statements."""
    from sqlalchemy import event

    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    member = world.member(tree["own"])
    agenda = [{"title": "Một", "document_ids": []}, {"title": "Hai", "document_ids": []}]

    def statements(ids):
        world.session.expire_all()
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731 (the statement)
        event.listen(world.session.get_bind(), "before_cursor_execute", listener)
        try:
            page = listing.my_meetings(world.session, member, {"from": None, "to": None, "cursor": None, "limit": 50})
        finally:
            event.remove(world.session.get_bind(), "before_cursor_execute", listener)
        assert [m["id"] for m in page["items"]] == ids
        return page, len(seen)

    ids = [world.schedule(secretary, tree["own"], starts_at=utcnow() + timedelta(days=1 + n))["id"] for n in range(2)]
    _, few = statements(ids)
    for n in range(2, 12):
        ids.append(
            world.schedule(secretary, tree["own"], starts_at=utcnow() + timedelta(days=1 + n), agenda=agenda)["id"]
        )
    with world.uow.transaction():
        attendance.answer(world.uow, member, ids[5], {"response": "attending"})
    page, many = statements(ids)
    assert many == few
    shown = {m["id"]: m for m in page["items"]}
    assert [item["title"] for item in shown[ids[5]]["agenda"]] == ["Một", "Hai"]
    assert [item["title"] for item in shown[ids[0]]["agenda"]] == ["Tình hình tháng"]
    assert shown[ids[5]]["my_rsvp"]["response"] == "attending" and shown[ids[5]]["attending"] == 1
    assert shown[ids[4]]["my_rsvp"] is None


def test_a_meeting_answers_an_invitee_with_its_version_and_until_when_its_status_holds(meetings_world, tree):
    """What the gateway answers `If-None-Match` from (services/gateway/versions.py): the version changes with what
    the member would see, including a colleague's answer; it holds until the start, then the end, then always."""
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    member, colleague = world.member(tree["own"]), world.member(tree["own"])
    now = utcnow()
    meeting = world.schedule(secretary, tree["own"], now=now)
    first = listing.get_meeting(world.session, member, meeting["id"], now=now)
    assert first["holds_until"] == meeting["starts_at"]
    assert listing.get_meeting(world.session, member, meeting["id"], now=now)["version"] == first["version"]
    with world.uow.transaction():
        attendance.answer(world.uow, colleague, meeting["id"], {"response": "attending"})
    counted = listing.get_meeting(world.session, member, meeting["id"], now=now)
    assert counted["attending"] == 1 and counted["version"] != first["version"]
    theirs = listing.get_meeting(world.session, colleague, meeting["id"], now=now)  # with their own answer
    assert theirs["my_rsvp"]["response"] == "attending" and theirs["version"] != counted["version"]
    running = listing.get_meeting(world.session, member, meeting["id"], now=now + timedelta(days=1, minutes=1))
    assert running["status"] == "in_progress" and running["holds_until"] == meeting["ends_at"]
    assert running["version"] != counted["version"]
    with world.uow.transaction():
        domain.cancel_meeting(world.uow, secretary, meeting["id"], "Bão")
    assert listing.get_meeting(world.session, member, meeting["id"])["holds_until"] is None


def test_an_officer_above_who_is_not_invited_is_answered_without_a_version(meetings_world, tree):
    """Their access follows their positions, which meetings announces to nobody: the gateway must ask every time."""
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    above = world.member(tree["parent"], (SECRETARY, tree["parent"]))
    meeting = world.schedule(secretary, tree["own"])
    seen = listing.get_meeting(world.session, above, meeting["id"])
    assert seen["id"] == meeting["id"] and "version" not in seen and "holds_until" not in seen
    assert "version" in listing.get_meeting(world.session, secretary, meeting["id"])


def test_an_erasure_members_orders_says_which_coming_meetings_lost_the_invitee(meetings_world, tree):
    """Their invitations go with the rest (privacy.erase), so every invitee's count changes: said as a transfer's
    is (meetings.meeting_updated), for the lists and meetings kept elsewhere (the gateway's known versions)."""
    world = meetings_world
    secretary = world.member(tree["own"], (SECRETARY, tree["own"]))
    leaving = world.member(tree["own"])
    meeting = world.schedule(secretary, tree["own"])["id"]
    administrator = SimpleNamespace(member_id=1)
    with world.uow.transaction():
        assert privacy.erase(world.uow, administrator, leaving, "Yêu cầu của đảng viên")["invitations"] == 1
    assert leaving not in member_ids(world.session, meeting)
    told = {"meeting_id": meeting, "organization_id": org_id(tree["own"]), "member_ids": [leaving]}
    assert published(world.uow, "meetings.meeting_updated") == [told]
