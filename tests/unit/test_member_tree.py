"""Reorganising the tree (services/members/administration.py, 2025 merger style): paths, figures, positions,
papers in flight and other services' projections follow; only those who manage a subtree reshape it."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from shared.errors import Conflict, Forbidden, NotFound, ValidationError
from services.members import administration, changes, counts
from services.members.models import Member, Organization, Position, SubtreeCount
from tests.support.worlds import published


@pytest.fixture
def tree(members_world):
    """Two provinces: one with a grassroots committee of two branches (a party group in the first), the other
    with one branch; a member or two in each; the administrator and the first grassroots committee's secretary."""
    w = members_world
    centre, province, grassroots, first = w.chain()
    second = w.organization("branch", grassroots)
    group = w.organization("party_group", first)
    other_province = w.organization("provincial", centre)
    other_grassroots = w.organization("grassroots", other_province)
    elsewhere = w.organization("branch", other_grassroots)
    return SimpleNamespace(
        world=w,
        uow=w.uow,
        centre=centre,
        province=province,
        grassroots=grassroots,
        first=first,
        second=second,
        group=group,
        other_province=other_province,
        other_grassroots=other_grassroots,
        elsewhere=elsewhere,
        admin=w.member(elsewhere, ("system_administrator", centre)),
        secretary=w.member(second, ("secretary", grassroots)),
        first_secretary=w.member(first, ("secretary", first)),
        in_group=w.member(group),
        in_first=w.member(first, status="probationary"),
        in_elsewhere=w.member(elsewhere),
    )


def run(t, action, who, *args):
    with t.uow.transaction():
        return action(t.uow, t.world.actor(getattr(t, who)), *args)


def paths_of_members(t, organization):
    return {
        m.organization_path
        for m in t.world.session.scalars(select(Member).where(Member.organization_id == organization.id))
    }


def figures(session):
    return sorted((r.organization_id, r.dimension, r.value, r.count) for r in session.scalars(select(SubtreeCount)))


def in_party(t, organization):
    return counts.stats(t.world.session, t.world.reload(organization))["in_party"]


def test_a_child_takes_the_level_below_its_parent(tree):
    branch = run(tree, administration.add_child, "secretary", tree.grassroots.id, "CB-MOI", "Chi bộ Mới")
    group = run(tree, administration.add_child, "secretary", tree.first.id, "TD-MOI", "Tổ đảng Mới")
    assert (branch["level"], group["level"]) == ("branch", "party_group")
    with pytest.raises(ValidationError):  # a party group has nothing below it
        run(tree, administration.add_child, "secretary", tree.group.id, "X-1", "Không có")
    with pytest.raises(ValidationError) as taken:
        run(tree, administration.add_child, "admin", tree.other_grassroots.id, "CB-MOI", "Trùng mã")
    assert "code" in taken.value.details
    with pytest.raises(NotFound):  # outside the secretary's subtree
        run(tree, administration.add_child, "secretary", tree.other_grassroots.id, "CB-XA", "Chi bộ Xa")


def test_only_those_who_manage_an_organisation_rename_it(tree):
    renamed = run(tree, administration.rename, "secretary", tree.first.id, "Chi bộ Khu phố 1")
    assert renamed["name"] == tree.world.reload(tree.first).name == "Chi bộ Khu phố 1"
    with pytest.raises(NotFound):
        run(tree, administration.rename, "first_secretary", tree.second.id, "Chi bộ của tôi")


def test_moving_a_branch_moves_its_subtree_members_and_figures(tree):
    before = in_party(tree, tree.province), in_party(tree, tree.other_province)
    moved = run(tree, administration.move, "admin", tree.first.id, tree.other_grassroots.id)
    first = tree.world.reload(tree.first)
    assert first.path == f"{tree.other_grassroots.path}{first.id}/" and moved["parent_id"] == tree.other_grassroots.id
    group = tree.world.reload(tree.group)
    assert group.path == f"{first.path}{group.id}/"
    assert paths_of_members(tree, first) == {first.path} and paths_of_members(tree, group) == {group.path}
    assert (in_party(tree, tree.province), in_party(tree, tree.other_province)) == (before[0] - 3, before[1] + 3)
    told = {p["member_id"]: p["organization_path"] for p in published(tree.uow, "members.member_updated")}
    assert told[tree.in_group.id] == group.path and told[tree.first_secretary.id] == first.path
    incremental = figures(tree.world.session)
    with tree.uow.transaction() as session:
        counts.rebuild(session)
    assert figures(tree.world.session) == incremental


@pytest.mark.parametrize(
    "organization, parent",
    [
        ("grassroots", "first"),  # under its own subtree
        ("first", "second"),  # a branch under a branch
        ("first", "other_province"),  # skipping a level
    ],
)
def test_a_move_that_breaks_the_tree_is_refused_and_changes_nothing(tree, organization, parent):
    moving = getattr(tree, organization)
    with pytest.raises(ValidationError):
        run(tree, administration.move, "admin", moving.id, getattr(tree, parent).id)
    assert tree.world.reload(moving).path == moving.path


def test_only_what_one_manages_on_both_sides_is_moved(tree):
    with pytest.raises(NotFound):
        run(tree, administration.move, "secretary", tree.first.id, tree.other_grassroots.id)


def test_merging_hands_members_children_and_papers_to_the_other_and_ends_positions(tree):
    transfer = run(tree, changes.issue_transfer, "secretary", tree.in_first.id, tree.elsewhere.id, "official")
    before = in_party(tree, tree.grassroots)
    gone_id = tree.first.id
    kept = run(tree, administration.merge, "secretary", gone_id, tree.second.id)
    assert kept["id"] == tree.second.id
    session = tree.world.session
    assert session.get(Organization, gone_id) is None
    second = tree.world.reload(tree.second)
    group = tree.world.reload(tree.group)
    assert group.parent_id == second.id and group.path == f"{second.path}{group.id}/"
    assert tree.world.reload(tree.in_first).organization_path == second.path
    assert tree.world.reload(tree.in_group).organization_path == group.path
    assert session.scalars(select(Position).where(Position.organization_id == gone_id)).all() == []
    ended = published(tree.uow, "members.position_changed")[-1]
    assert (ended["member_id"], ended["action"]) == (tree.first_secretary.id, "removed")
    assert in_party(tree, tree.grassroots) == before
    # the transfer issued before the merge is the merged organisation's now, and still acceptable
    accepted = run(tree, changes.accept_transfer, "admin", transfer["id"])
    assert accepted["from_organization_id"] == second.id
    assert tree.world.reload(tree.in_first).organization_id == tree.elsewhere.id


def test_only_another_organisation_of_the_same_level_takes_a_merge(tree):
    for gone, into in (("first", "first"), ("first", "grassroots"), ("grassroots", "first")):
        with pytest.raises(ValidationError):
            run(tree, administration.merge, "admin", getattr(tree, gone).id, getattr(tree, into).id)
    assert tree.world.session.get(Organization, tree.first.id) is not None


def test_a_transfer_of_a_member_moved_since_is_stale(tree):
    transfer = run(tree, changes.issue_transfer, "secretary", tree.in_first.id, tree.elsewhere.id, "official")
    with tree.uow.transaction():  # as an import re-reading the national database would
        changes.apply_changes(
            tree.uow,
            None,
            tree.world.reload(tree.in_first),
            {"organization_id": tree.second.id, "organization_path": tree.second.path},
        )
    with pytest.raises(Conflict):
        run(tree, changes.accept_transfer, "admin", transfer["id"])
    assert tree.world.reload(tree.in_first).organization_id == tree.second.id


def test_rollout_is_the_administrators_and_announced_once(tree):
    with pytest.raises(Forbidden):
        run(tree, administration.change_rollout, "secretary", tree.grassroots.id, "pilot")
    for state in ("pilot", "pilot", "live"):
        assert run(tree, administration.change_rollout, "admin", tree.province.id, state)["rollout"] == state
    assert [e["state"] for e in published(tree.uow, "members.org_rollout_changed")] == ["pilot", "live"]


def test_the_first_administrator_is_granted_once_to_a_party_member(tree, members_world):
    from services.members.models import AuditEntry

    # an installation without one yet: the administrator of the fixture steps down
    with tree.uow.transaction() as session:
        for position in session.scalars(select(Position).where(Position.role == "system_administrator")):
            session.delete(position)
    left = members_world.member(tree.first, status="resigned", left_on=tree.admin.admission_date)
    with pytest.raises(NotFound):
        with tree.uow.transaction():
            administration.grant_first_administrator(tree.uow, left.citizen_id)
    with tree.uow.transaction():
        granted = administration.grant_first_administrator(tree.uow, tree.in_first.citizen_id)
    assert {"role": "system_administrator", "organization_id": tree.centre.id} in granted["positions"]
    entry = tree.world.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "position.first_administrator")
    ).one()
    assert (entry.subject_id, entry.actor_member_id) == (tree.in_first.id, None)
    with pytest.raises(Forbidden):
        with tree.uow.transaction():
            administration.grant_first_administrator(tree.uow, tree.in_group.citizen_id)
