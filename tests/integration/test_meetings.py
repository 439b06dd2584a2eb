"""meetings on a real broker and database: its copy of the directory fed by members' events, invitees with it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from shared.db import standalone_unit, utcnow
from services.meetings import domain as meetings_domain
from services.meetings.models import Base as MeetingsBase, Invitee, directory
from services.members import domain as members_domain, seed
from services.members.models import Base as MembersBase, Member
from tests.support.services import assert_ready_once_identity_answers
from tests.support.waiting import wait_for

SECRETARY = "001000000001"  # the demo branch's secretary


def test_meetings_is_ready_once_identity_answers_and_serves_its_metrics(prepare, containers):
    assert_ready_once_identity_answers("meetings", prepare, containers)


def _unit(base, service):
    return standalone_unit(base.metadata, service)


def _read(query):
    unit, database = _unit(MeetingsBase, "meetings")
    try:
        return unit.session.execute(query).all()
    finally:
        unit.close()
        database.engine.dispose()


@pytest.fixture
def running(prepare, containers):
    """members (seeded: the demo tree and members) and meetings, both running."""
    members_cls, meetings_cls = prepare("members"), prepare("meetings")
    unit, database = _unit(MembersBase, "members")
    with unit.transaction():
        seed.seed(unit)
    secretary = unit.session.scalar(select(Member).where(Member.citizen_id == SECRETARY))
    containers(members_cls)
    containers(meetings_cls)
    yield unit, secretary
    unit.close()
    database.engine.dispose()


def test_a_meeting_invites_the_branch_as_members_events_describe_it_and_follows_a_newcomer(running):
    members_unit, secretary = running
    wait_for(
        lambda: (
            _read(select(directory.Membership.member_id).where(directory.Membership.member_id == secretary.id))
            and _read(select(directory.Position.role).where(directory.Position.member_id == secretary.id))
        ),
        timeout=30,
        message="meetings' copy of the demo branch and its secretary",
    )

    unit, database = _unit(MeetingsBase, "meetings")
    starts = utcnow() + timedelta(days=2)
    data = {
        "title": "Sinh hoạt chi bộ",
        "kind": "regular",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "location": "Hội trường",
        "online_url": None,
        "agenda": [],
        "repeat": None,
    }
    with unit.transaction():
        meeting = meetings_domain.schedule_meeting(unit, secretary.id, secretary.organization_id, data)
    unit.close()
    database.engine.dispose()
    branch_members = members_unit.session.scalars(
        select(Member.id).where(Member.organization_id == secretary.organization_id)
    ).all()
    assert meeting["invited"] == len(branch_members)

    with members_unit.transaction():
        newcomer = members_domain.add_member(
            members_unit,
            {
                "citizen_id": "001099000777",
                "full_name": "Đảng viên Mới",
                "status": "probationary",
                "organization_id": secretary.organization_id,
                "phone": None,
            },
        )
    wait_for(
        lambda: _read(
            select(Invitee.member_id).where(Invitee.meeting_id == meeting["id"], Invitee.member_id == newcomer.id)
        ),
        timeout=30,
        message="the newcomer invited",
    )
