"""Members' domain logic: plain Python over a SQLAlchemy session, no nameko.

Authorisation lives here, in the service that owns the data: role × scope,
where an officer's scope is the subtree of the organisation of their position.
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from shared import digests
from shared.contracts.members import ADMIN_ROLE, OFFICER_ROLES
from shared.errors import Forbidden, NotFound, ValidationError
from shared.text import search_key
from shared.tree import in_subtree
from services.members import counts
from services.members.models import AuditEntry, Member, Organization, Position


def normalize_name(name):
    return " ".join(unicodedata.normalize("NFC", name).split())


@dataclass
class Actor:
    """The verified caller as members sees them: their record and positions."""

    member: Member
    positions: list

    @property
    def is_admin(self):
        return any(p.role == ADMIN_ROLE for p in self.positions)

    def officer_paths(self):
        return [p.organization.path for p in self.positions if p.role in OFFICER_ROLES]

    def manages(self, path):
        return self.is_admin or any(in_subtree(path, root) for root in self.officer_paths())

    def presides_over(self, path):
        """Strictly above `path`: an organisation's positions are given from the committee above it."""
        return self.is_admin or any(in_subtree(path, root) and path != root for root in self.officer_paths())

    def decides_about(self, member):
        """Separation of duties: nobody decides about themselves; an administrator's record is for another
        administrator; an officer's record is for the committee above their position, not for peers."""
        if member.id == self.member.id:
            return False
        if self.is_admin:
            return True
        return self.manages(member.organization_path) and all(
            p.role in OFFICER_ROLES and self.presides_over(p.organization.path) for p in member.positions
        )

    def may_see_organization(self, org):
        # own organisation and the committees above it are public to a member
        return self.manages(org.path) or in_subtree(self.member.organization_path, org.path)


def load_actor(session, member_id):
    member = session.get(Member, member_id)
    if member is None:
        raise Forbidden(message="Tài khoản không gắn với đảng viên nào. / This account is not linked to a member.")
    # someone who left the party holds no authority, whatever positions are still on record
    return Actor(member=member, positions=list(member.positions) if member.status in counts.IN_PARTY else [])


def organization_json(org):
    return {
        "id": org.id,
        "code": org.code,
        "name": org.name,
        "level": org.level,
        "parent_id": org.parent_id,
        "rollout": org.rollout,
    }


def member_json(member):
    return {
        "id": member.id,
        "citizen_id": member.citizen_id,
        "full_name": member.full_name,
        "date_of_birth": _iso(member.date_of_birth),
        "gender": member.gender,
        "status": member.status,
        "organization_id": member.organization_id,
        "phone": member.phone,
        "party_card_number": member.party_card_number,
        "admission_date": _iso(member.admission_date),
        "official_date": _iso(member.official_date),
        "positions": [{"role": p.role, "organization_id": p.organization_id} for p in member.positions],
    }


def member_snapshot(member):
    """The event payload other services project (see shared.contracts.members.MemberSnapshot)."""
    return {
        "member_id": member.id,
        "citizen_id": member.citizen_id,
        "full_name": member.full_name,
        "date_of_birth": _iso(member.date_of_birth),
        "status": member.status,
        "organization_id": member.organization_id,
        "organization_path": member.organization_path,
        "phone": member.phone,
        "email": member.email,
        "activated": bool(member.activated),
    }


def _iso(value):
    return value.isoformat() if value else None


NOT_ABOUT_ONESELF = (
    "Không ai tự quyết định việc của chính mình: hãy đề nghị cấp uỷ cấp trên; hồ sơ của mình "
    "sửa qua PATCH /me. / Nobody decides about themselves: ask the committee above; change your "
    "own data through PATCH /me."
)
FROM_ABOVE = (
    "Việc này do cấp uỷ cấp trên hoặc quản trị hệ thống quyết định. / "
    "This is for the committee above or a system administrator to decide."
)


def refusal(actor, member):
    return Forbidden(message=NOT_ABOUT_ONESELF if member.id == actor.member.id else FROM_ABOVE)


def decided_member(session, actor, member_id):
    """The member `actor` is about to decide about: 404 outside what they may see, 403 when it is
    not theirs to decide (themselves, an administrator, a fellow officer)."""
    member = session.get(Member, member_id)
    if (
        member is None
        or member.erased_at is not None
        or not (member.id == actor.member.id or actor.manages(member.organization_path))
    ):
        raise NotFound()  # a tombstone is nobody's to change
    if not actor.decides_about(member):
        raise refusal(actor, member)
    return member


def get_me(session, member_id):
    """The member's own record, with `version`: a digest of exactly what it shows (record and positions), so it
    changes with every write that changes the answer, bulk ones included (a merge, an import), with no column to
    keep in step. The gateway answers `If-None-Match` with it until members' events say the record changed."""
    answer = member_json(load_actor(session, member_id).member)
    return {**answer, "version": answer_version(answer)}


def answer_version(answer):
    # positions come in no set order: the same ones are the same version (a weak ETag: the same meaning)
    positions = sorted(answer["positions"], key=lambda p: (p["organization_id"], p["role"]))
    return digests.answer_version({**answer, "positions": positions})


def get_member(session, actor_id, member_id):
    actor = load_actor(session, actor_id)
    member = session.get(Member, member_id)
    if member is None or not (member.id == actor.member.id or actor.manages(member.organization_path)):
        # the same answer for "absent" and "not yours": no probing other people's ids
        raise NotFound()
    return member_json(member)


def visible_organization(session, actor, organization_id):
    org = session.get(Organization, organization_id)
    if org is None or not actor.may_see_organization(org):
        raise NotFound()
    return org


def organization_stats(session, actor, organization_id):
    """A committee's figures, for those who manage its subtree."""
    org = session.get(Organization, organization_id)
    if org is None or not actor.manages(org.path):
        raise NotFound()
    return counts.stats(session, org)


def organization_uptake(session, actor, organization_id):
    """How many members signed in, in the subtree and in each child's, for those who manage it."""
    org = session.get(Organization, organization_id)
    if org is None or not actor.manages(org.path):
        raise NotFound()
    return counts.uptake(session, org)


def get_organization(session, actor_id, organization_id):
    return organization_json(visible_organization(session, load_actor(session, actor_id), organization_id))


def list_children(session, actor_id, organization_id):
    actor = load_actor(session, actor_id)
    org = visible_organization(session, actor, organization_id)
    children = session.scalars(
        select(Organization).where(Organization.parent_id == org.id).order_by(Organization.id)
    ).all()
    visible = [c for c in children if actor.may_see_organization(c)]
    return {"items": [organization_json(c) for c in visible], "next_cursor": None}


def create_organization(session, code, name, level, parent=None, rollout="disabled"):
    org = Organization(
        code=code, name=name, level=level, parent_id=parent.id if parent else None, path="/pending/", rollout=rollout
    )
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    return org


CARD_TAKEN = "Số thẻ đảng thuộc đảng viên khác. / The party card number belongs to another member."


def clashes(session, citizen_id=None, party_card_number=None, other_than=None):
    """[(field, member)] of the members already holding this citizen ID or party card number."""
    found = []
    for field, value in (("citizen_id", citizen_id), ("party_card_number", party_card_number)):
        if value:
            query = select(Member).where(getattr(Member, field) == value)
            if other_than is not None:
                query = query.where(Member.id != other_than)
            found += [(field, member) for member in session.scalars(query)]
    return found


def add_member(uow, data, actor_id=None):
    """Create a member (validated data; clashes are the caller's to check, see registration.register)
    and publish members.member_created."""
    session = uow.session
    org = session.get(Organization, data["organization_id"])
    if org is None:
        raise ValidationError(details={"organization_id": ["unknown organisation"]})
    name = normalize_name(data["full_name"])
    member = Member(**{**data, "full_name": name}, search_name=search_key(name), organization_path=org.path)
    session.add(member)
    session.flush()
    counts.adjust(session, member.organization_path, counts.values_of(member), +1)
    snapshot = member_snapshot(member)
    session.add(
        AuditEntry(
            actor_member_id=actor_id,
            action="member.create",
            subject_type="member",
            subject_id=member.id,
            before=None,
            after=snapshot,
        )
    )
    uow.publish("members.member_created", snapshot)
    return member


def record_position(uow, member, organization, role):
    """Write a position and tell other services (no checks: the caller decided, see changes.appoint)."""
    position = Position(member_id=member.id, organization_id=organization.id, role=role)
    uow.session.add(position)
    uow.session.flush()
    uow.publish(
        "members.position_changed",
        {
            "member_id": member.id,
            "organization_id": organization.id,
            "organization_path": organization.path,
            "role": role,
            "action": "assigned",
        },
    )
    return position


def set_rollout(uow, organization, state):
    """Switch a committee's rollout (disabled → pilot → live); everyone below follows it."""
    if organization.rollout == state:
        return
    organization.rollout = state
    uow.publish(
        "members.org_rollout_changed",
        {"organization_id": organization.id, "organization_path": organization.path, "state": state},
    )


SNAPSHOT_COLUMNS = (
    Member.id,
    Member.citizen_id,
    Member.full_name,
    Member.date_of_birth,
    Member.status,
    Member.organization_id,
    Member.organization_path,
    Member.phone,
    Member.email,
    Member.activated,
)


def snapshots_after(session, after_id, limit, updated_since=None, updated_until=None, pause=None):
    """Bulk read for rebuilding a projection: members by id, keyset-paginated (optionally only
    those changed in a window of time: an import's). Plain columns, not ORM objects (a page is thousands
    of rows, read while others wait), with `pause()` between slices of the page."""
    query = select(*SNAPSHOT_COLUMNS).where(Member.id > after_id, Member.erased_at.is_(None))
    if updated_since:
        query = query.where(Member.updated_at >= datetime.fromisoformat(updated_since))
    if updated_until:
        query = query.where(Member.updated_at <= datetime.fromisoformat(updated_until))
    page = []
    for rows in session.execute(query.order_by(Member.id).limit(limit)).partitions(250):
        page.extend(member_snapshot(row) for row in rows)
        if pause:
            pause()
    return page
