"""Reorganising the tree (2025 merger style) keeps paths, figures and projections right."""
import pytest
from sqlalchemy import select

from services.members import administration, counts, domain
from services.members.models import Member, Organization, Position, SubtreeCount


@pytest.fixture
def uow(members_uow):
    return members_uow


def org(session, code):
    return session.scalar(select(Organization).where(Organization.code == code))


def admin(session):
    return domain.load_actor(session, session.scalar(select(Member.id).where(Member.citizen_id == "001000000000")))


def figures(session):
    return sorted((r.organization_id, r.dimension, r.value, r.count) for r in session.scalars(select(SubtreeCount)))


def test_moving_a_branch_moves_its_members_and_figures(uow):
    session = uow.session
    with uow.transaction():
        branch, other_grassroots = org(session, "G001-B1"), org(session, "G002")
        before_province = counts.stats(session, org(session, "P32"))["total"]   # Đồng Tháp
        administration.move(uow, admin(session), branch.id, other_grassroots.id)
    branch = org(session, "G001-B1")
    assert branch.path == f"{org(session, 'G002').path}{branch.id}/"
    assert {m.organization_path for m in session.scalars(select(Member).where(Member.organization_id == branch.id))} \
        == {branch.path}
    assert counts.stats(session, org(session, "P32"))["total"] == before_province - 5
    incremental = figures(session)
    with uow.transaction():
        counts.rebuild(session)
    assert figures(session) == incremental


def test_merging_a_branch_hands_everything_to_the_other(uow):
    session = uow.session
    with uow.transaction():
        gone, kept = org(session, "G001-B1"), org(session, "G001-B2")
        gone_id, moved = gone.id, len(session.scalars(select(Member).where(Member.organization_id == gone.id)).all())
        before = len(session.scalars(select(Member).where(Member.organization_id == kept.id)).all())
        uow.published = 0
        administration.merge(uow, admin(session), gone.id, kept.id)
    assert session.get(Organization, gone_id) is None
    assert len(session.scalars(select(Member).where(Member.organization_id == org(session, "G001-B2").id)).all()) \
        == before + moved
    assert session.scalars(select(Position).where(Position.organization_id == gone_id)).all() == []


def test_a_branch_cannot_move_under_a_branch(uow):
    session = uow.session
    with pytest.raises(Exception) as refused:
        with uow.transaction():
            administration.move(uow, admin(session), org(session, "G001-B1").id, org(session, "G002-B1").id)
    assert refused.value.code == "validation_error"


def test_a_transfer_issued_before_a_merge_is_the_merged_organisations(uow):
    from services.members import changes

    session = uow.session
    with uow.transaction():
        leaving, kept = org(session, "G001-B2"), org(session, "G001-B1")
        mover = session.scalar(select(Member).where(Member.organization_id == leaving.id))
        transfer = changes.issue_transfer(uow, admin(session), mover.id, org(session, "G002-B1").id, "official")
        administration.merge(uow, admin(session), leaving.id, kept.id)
    with uow.transaction():
        accepted = changes.accept_transfer(uow, admin(session), transfer["id"])
    assert accepted["from_organization_id"] == org(session, "G001-B1").id
    assert session.get(Member, mover.id).organization_id == org(session, "G002-B1").id


def test_a_transfer_of_a_member_moved_since_is_stale(uow):
    from services.members import changes
    from shared.errors import Conflict

    session = uow.session
    with uow.transaction():
        mover = session.scalar(select(Member).where(Member.organization_id == org(session, "G001-B2").id))
        transfer = changes.issue_transfer(uow, admin(session), mover.id, org(session, "G002-B1").id, "official")
        elsewhere = org(session, "G003-B1")     # as an import re-reading the national database would
        changes.apply_changes(uow, None, mover, {"organization_id": elsewhere.id, "organization_path": elsewhere.path})
    with pytest.raises(Conflict):
        with uow.transaction():
            changes.accept_transfer(uow, admin(session), transfer["id"])
    assert session.get(Member, mover.id).organization_id == org(session, "G003-B1").id
