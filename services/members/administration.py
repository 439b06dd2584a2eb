"""The organisation tree: create, rename, move, merge (the 2025 reorganisation), rollout.

Moving or merging rewrites the materialised paths of a whole subtree and of its
members in a few UPDATE statements (a string-prefix replacement), then moves the
subtree counts with them.
"""

from sqlalchemy import func, select, update

from shared.contracts.members import ADMIN_ROLE, LEVELS, ROLLOUT_STATES
from shared.errors import Forbidden, NotFound, ValidationError
from shared.tree import subtree_bounds
from services.members import counts
from services.members.domain import create_organization, organization_json, set_rollout, visible_organization
from services.members.models import Member, Organization, Position, Registration, Transfer

CHILD_LEVEL = dict(zip(LEVELS, LEVELS[1:], strict=False))


def _managed(session, actor, organization_id):
    org = session.get(Organization, organization_id)
    if org is None or not actor.manages(org.path):
        raise NotFound()
    return org


def add_child(uow, actor, parent_id, code, name):
    parent = _managed(uow.session, actor, parent_id)
    if parent.level not in CHILD_LEVEL:
        raise ValidationError(details={"parent_id": ["Tổ đảng không có cấp dưới. / A party group has no children."]})
    if uow.session.scalar(select(Organization.id).where(Organization.code == code)):
        raise ValidationError(details={"code": ["Mã đã dùng. / The code is taken."]})
    return organization_json(create_organization(uow.session, code, name, CHILD_LEVEL[parent.level], parent))


def change(uow, actor, organization_id, changes):
    """PATCH /organizations/{id}: a new name, a new parent, or both."""
    result = None
    if "name" in changes:
        result = rename(uow, actor, organization_id, changes["name"])
    if "parent_id" in changes:
        result = move(uow, actor, organization_id, changes["parent_id"])
    return result or organization_json(visible_organization(uow.session, actor, organization_id))


def rename(uow, actor, organization_id, name):
    org = _managed(uow.session, actor, organization_id)
    org.name = name
    return organization_json(org)


def _rewrite_paths(session, old_prefix, new_prefix):
    low, high = subtree_bounds(old_prefix)
    cut = len(old_prefix) + 1
    for model, column in ((Organization, Organization.path), (Member, Member.organization_path)):
        session.execute(
            update(model).where(column >= low, column < high).values({column: new_prefix + func.substr(column, cut)})
        )


def move(uow, actor, organization_id, new_parent_id):
    """Attach a subtree under another parent (both within the actor's scope)."""
    session = uow.session
    org = _managed(session, actor, organization_id)
    parent = _managed(session, actor, new_parent_id)
    if parent.path.startswith(org.path):
        raise ValidationError(details={"parent_id": ["Không thể chuyển vào chính nó. / Cannot move under itself."]})
    if CHILD_LEVEL.get(parent.level) != org.level:
        raise ValidationError(details={"parent_id": ["Sai cấp. / Wrong level for this organisation."]})
    old_path, new_path = org.path, f"{parent.path}{org.id}/"
    org.parent_id = parent.id
    _rewrite_paths(session, old_path, new_path)
    counts.rebuild(session)
    session.expire_all()
    _republish_members(uow, new_path)
    return organization_json(session.get(Organization, org.id))


def merge(uow, actor, organization_id, into_id):
    """Dissolve an organisation into another of the same level: its children, members and
    positions go to the other; the dissolved one is removed."""
    session = uow.session
    org = _managed(session, actor, organization_id)
    target = _managed(session, actor, into_id)
    if org.id == target.id or org.level != target.level or target.path.startswith(org.path):
        raise ValidationError(
            details={"into": ["Phải là tổ chức khác cùng cấp. / Another organisation of the same level."]}
        )
    for child in session.scalars(select(Organization).where(Organization.parent_id == org.id)).all():
        child.parent_id = target.id
        _rewrite_paths(session, child.path, f"{target.path}{child.id}/")
    session.execute(
        update(Member)
        .where(Member.organization_id == org.id)
        .values(organization_id=target.id, organization_path=target.path)
    )
    # papers naming the dissolved organisation are the other's now (an issued transfer stays acceptable)
    for column in (Transfer.from_organization_id, Transfer.to_organization_id, Registration.organization_id):
        session.execute(update(column.class_).where(column == org.id).values({column: target.id}))
    for position in session.scalars(select(Position).where(Position.organization_id == org.id)).all():
        # a dissolved organisation's positions end with it
        uow.publish(
            "members.position_changed",
            {
                "member_id": position.member_id,
                "organization_id": org.id,
                "organization_path": org.path,
                "role": position.role,
                "action": "removed",
            },
        )
        session.delete(position)
    session.flush()
    session.delete(org)
    counts.rebuild(session)
    session.expire_all()
    _republish_members(uow, target.path)
    return organization_json(session.get(Organization, target.id))


def _republish_members(uow, path):
    """Other services project organisation paths: tell them about every member that moved."""
    from services.members.domain import member_snapshot

    low, high = subtree_bounds(path)
    for member in uow.session.scalars(
        select(Member).where(
            Member.organization_path >= low, Member.organization_path < high, Member.erased_at.is_(None)
        )
    ):
        uow.publish("members.member_updated", member_snapshot(member))


def change_rollout(uow, actor, organization_id, state):
    if not actor.is_admin:
        raise Forbidden()
    if state not in ROLLOUT_STATES:
        raise ValidationError(details={"state": [" | ".join(ROLLOUT_STATES)]})
    org = uow.session.get(Organization, organization_id)
    if org is None:
        raise NotFound()
    set_rollout(uow, org, state)
    return organization_json(org)


def grant_first_administrator(uow, citizen_id):
    """The first system administrator of an installation (identity's operator command): granted only
    while nobody holds the position; later ones are appointed by an administrator. Audited."""
    from services.members.changes import _audit
    from services.members.domain import member_json, record_position

    session = uow.session
    if session.scalar(select(Position.id).where(Position.role == ADMIN_ROLE).limit(1)) is not None:
        raise Forbidden(
            message="Đã có quản trị hệ thống; người đó bổ nhiệm thêm. / A system administrator already "
            "exists; they appoint any other."
        )
    member = session.scalar(select(Member).where(Member.citizen_id == citizen_id))
    if member is None or member.status not in counts.IN_PARTY:
        raise NotFound(message="Không có đảng viên với số định danh này. / No party member has this citizen ID.")
    centre = session.scalar(select(Organization).where(Organization.parent_id.is_(None)))
    record_position(uow, member, centre, ADMIN_ROLE)
    _audit(
        uow,
        None,
        "position.first_administrator",
        member,
        None,
        {"organization_id": centre.id, "role": ADMIN_ROLE},
        note="operator command",
    )
    session.refresh(member)
    return member_json(member)
