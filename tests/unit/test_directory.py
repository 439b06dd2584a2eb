"""The directory projection (shared/directory.py) on an in-memory database: what members' events leave in it,
and what a service reads back (scope, rollout)."""

import pytest
from sqlalchemy import Column, MetaData, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Session

from shared.directory import Directory


class Base(DeclarativeBase):
    metadata = MetaData()


directory = Directory(Base, keep=("full_name", "phone"), language=Column(String(2), nullable=False, default="vi"))


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def event(event_type, **payload):
    return {"id": "e-1", "type": event_type, "payload": payload}


def member(member_id, path, status="official", **fields):
    return {
        "member_id": member_id,
        "citizen_id": f"001000000{member_id:03d}",
        "full_name": f"Đảng viên {member_id}",
        "status": status,
        "organization_id": int(path.strip("/").split("/")[-1]),
        "organization_path": path,
        "phone": "+84912000001",
        **fields,
    }


def test_a_service_keeps_only_the_personal_fields_it_names(session):
    directory.member_changed(session, event("members.member_created", **member(5, "/1/2/3/4/")))
    row = session.get(directory.Membership, 5)
    assert (row.full_name, row.phone, row.language, row.in_party) == ("Đảng viên 5", "+84912000001", "vi", True)
    assert not hasattr(row, "citizen_id") and not hasattr(row, "date_of_birth")
    assert session.get(directory.Organization, 4).level == "branch"


def test_an_officer_manages_the_subtree_of_their_position_until_they_leave_the_party(session):
    directory.project_member(session, member(5, "/1/2/3/4/"))
    directory.position_changed(
        session,
        event(
            "members.position_changed",
            member_id=5,
            organization_id=3,
            organization_path="/1/2/3/",
            role="secretary",
            action="assigned",
        ),
    )
    scope = directory.scope(session, 5)
    assert scope.manages("/1/2/3/9/") and not scope.manages("/1/2/8/") and not scope.administrator
    directory.project_member(session, member(5, "/1/2/3/4/", status="expelled"))
    assert not directory.scope(session, 5).manages("/1/2/3/9/")


def test_a_committee_moved_elsewhere_carries_its_positions_and_members_along(session):
    directory.project_member(session, member(5, "/1/2/3/4/"))
    directory.project_member(session, member(6, "/1/2/3/7/"))
    directory.position_changed(
        session,
        event(
            "members.position_changed",
            member_id=5,
            organization_id=3,
            organization_path="/1/2/3/",
            role="secretary",
            action="assigned",
        ),
    )
    directory.project_member(session, member(6, "/1/9/3/7/"))  # members republishes everyone below the move
    assert directory.scope(session, 5).paths == ("/1/9/3/",)
    assert session.get(directory.Membership, 5).organization_path == "/1/9/3/4/"
    assert session.get(directory.Organization, 3).path == "/1/9/3/"


def test_rollout_is_inherited_from_the_committees_above(session):
    directory.rollout_changed(
        session, event("members.org_rollout_changed", organization_id=2, organization_path="/1/2/", state="pilot")
    )
    assert directory.rolled_out(session, "/1/2/3/4/", ("pilot", "live"))
    assert not directory.rolled_out(session, "/1/2/3/4/", ("live",))
    assert not directory.rolled_out(session, "/1/5/6/", ("pilot", "live"))


def test_an_erased_member_is_not_taken_in_again_by_a_late_snapshot(session):
    directory.project_member(session, member(5, "/1/2/3/4/"))
    directory.member_erased(session, event("members.member_erased", member_id=5))
    assert directory.project_member(session, member(5, "/1/2/3/4/")) is None
    assert session.scalars(select(directory.Membership)).all() == []
