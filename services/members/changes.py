"""Changes to members: an officer's edits, a member's own (contact now, core data by
request), transfers between organisations, the digital file. Every write to personal
data is audited with before and after, and published as members.member_updated."""

from datetime import date

from sqlalchemy import and_, or_, select

from shared.contracts.common import LEFT_PARTY
from shared.contracts.members import ADMIN_ROLE, DEPUTY_SECRETARY, SECRETARY
from shared.db import aware, utcnow
from shared.errors import Conflict, Forbidden, NotFound, ValidationError
from shared.tree import in_subtree, subtree_bounds
from services.members import counts
from services.members.domain import (
    CARD_TAKEN,
    FROM_ABOVE,
    clashes,
    decided_member,
    member_json,
    member_snapshot,
    normalize_name,
    refusal,
    search_key,
)
from services.members.models import AuditEntry, ChangeRequest, Member, MemberRecord, Organization, Transfer

CONTACT_FIELDS = ("phone", "email")
CORE_FIELDS = ("full_name", "date_of_birth", "gender", "party_card_number")
OFFICER_FIELDS = (
    CORE_FIELDS + CONTACT_FIELDS + ("status", "admission_date", "official_date", "left_on", "leaving_reason")
)
DECIDING_ROLES = {SECRETARY, DEPUTY_SECRETARY, ADMIN_ROLE}


def _audit(uow, actor_id, action, member, before, after, note=None):
    context = uow.context
    uow.session.add(
        AuditEntry(
            actor_member_id=actor_id,
            action=action,
            subject_type="member",
            subject_id=member.id,
            before=before,
            after=after,
            note=note,
            correlation_id=context.get("correlation_id"),
            client_address=context.get("client_address"),
        )
    )


def personal_record(member):
    """Everything of a member's record that is personal data (audited before and after each change)."""
    data = member_json(member)
    data.pop("positions")
    data.update(email=member.email, left_on=_iso(member.left_on), leaving_reason=member.leaving_reason)
    return data


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value


def apply_changes(uow, actor_id, member, changes, action="member.update", note=None):
    """Apply validated `changes`, keeping search key, counts, audit and event in step; `changes` that are
    what is on record already are no change: nothing is checked, audited or published."""
    # checked before anything changes: a clash found at flush would be a 500 and half a write
    if clashes(uow.session, party_card_number=changes.get("party_card_number"), other_than=member.id):
        raise Conflict(details={"party_card_number": [CARD_TAKEN]})
    before, old_path, old_values = personal_record(member), member.organization_path, counts.values_of(member)
    for field, value in changes.items():
        setattr(member, field, value)
    if "full_name" in changes:
        member.full_name = normalize_name(member.full_name)
        member.search_name = search_key(member.full_name)
    after = personal_record(member)
    if after == before:
        return member
    status = member.status
    if status in LEFT_PARTY and member.left_on is None:
        raise ValidationError(details={"left_on": ["Cần ngày ra khỏi Đảng. / The leaving date is required."]})
    if member.official_date and member.admission_date and member.official_date < member.admission_date:
        raise ValidationError(details={"official_date": ["Trước ngày vào Đảng. / Before the admission date."]})
    if status == "official" and member.official_date is None and "status" in changes:
        raise ValidationError(details={"official_date": ["Cần ngày chính thức. / The official date is required."]})
    uow.session.flush()
    counts.move(uow.session, old_path, old_values, member.organization_path, counts.values_of(member))
    _audit(uow, actor_id, action, member, before, after, note)
    uow.publish("members.member_updated", member_snapshot(member))
    return member


def record_activation(session, member):
    """The member signed in for the first time (identity's event): uptake counts it. No personal data
    changed (no audit row) and identity's event has told every consumer (nothing to publish)."""
    if member.activated:
        return
    old_values = counts.values_of(member)
    member.activated = True
    counts.move(session, member.organization_path, old_values, member.organization_path, counts.values_of(member))


def update_member(uow, actor, member_id, changes):
    member = decided_member(uow.session, actor, member_id)
    unknown = set(changes) - set(OFFICER_FIELDS)
    if unknown:
        raise ValidationError(details={field: ["Không sửa được ở đây. / Cannot be changed here."] for field in unknown})
    return apply_changes(uow, actor.member.id, member, changes)


def update_me(uow, actor, changes):
    """Contact data changes at once; core data becomes a request for the branch secretary."""
    contact = {k: v for k, v in changes.items() if k in CONTACT_FIELDS}
    core = {k: _iso(v) for k, v in changes.items() if k in CORE_FIELDS}
    member = actor.member
    apply_changes(uow, member.id, member, contact, action="member.self_update")
    request = None
    if core:
        request = ChangeRequest(member_id=member.id, organization_path=member.organization_path, changes=core)
        uow.session.add(request)
        uow.session.flush()
    return {"member": member_json(member), "change_request": change_request_json(request) if request else None}


def change_request_json(request):
    return {
        "id": request.id,
        "member_id": request.member_id,
        "changes": request.changes,
        "status": request.status,
        "reason": request.reason,
        "requested_at": aware(request.requested_at).isoformat(),
    }


def _decider_paths(actor):
    return ["/"] if actor.is_admin else [p.organization.path for p in actor.positions if p.role in DECIDING_ROLES]


def pending_change_requests(session, actor):
    """The requests this officer may decide: by the member's current organisation (requests follow a
    transferred member), never their own or a fellow officer's."""
    ranges = [
        and_(Member.organization_path >= low, Member.organization_path < high)
        for low, high in map(subtree_bounds, _decider_paths(actor))
    ]
    if not ranges:
        return {"items": [], "next_cursor": None}
    rows = session.execute(
        select(ChangeRequest, Member)
        .join(Member, Member.id == ChangeRequest.member_id)
        .where(ChangeRequest.status == "pending", or_(*ranges))
        .order_by(ChangeRequest.id)
    ).all()
    return {"items": [change_request_json(r) for r, member in rows if actor.decides_about(member)], "next_cursor": None}


def decide_change_request(uow, actor, request_id, approve, reason=None):
    request = uow.session.get(ChangeRequest, request_id)
    member = uow.session.get(Member, request.member_id) if request else None
    if member is None or not (
        member.id == actor.member.id or any(in_subtree(member.organization_path, p) for p in _decider_paths(actor))
    ):
        raise NotFound()
    if not actor.decides_about(member):
        raise refusal(actor, member)
    if request.status != "pending":
        raise ValidationError(details={"status": [f"already {request.status}"]})
    request.status = "approved" if approve else "rejected"
    request.reason = reason
    request.decided_by = actor.member.id
    request.decided_at = utcnow()
    uow.publish(
        "members.change_request_decided",
        {"request_id": request.id, "member_id": request.member_id, "decision": request.status, "reason": reason},
    )
    if approve:
        changes = {k: date.fromisoformat(v) if k == "date_of_birth" and v else v for k, v in request.changes.items()}
        apply_changes(
            uow,
            actor.member.id,
            member,
            changes,
            action="member.change_request_approved",
            note=f"change request {request.id}",
        )
    return change_request_json(request)


def issue_transfer(uow, actor, member_id, to_organization_id, kind, note=None):
    session = uow.session
    member = decided_member(session, actor, member_id)
    target = session.get(Organization, to_organization_id)
    if target is None or target.id == member.organization_id:
        raise ValidationError(details={"to_organization_id": ["Tổ chức nhận không hợp lệ. / Not a valid receiver."]})
    if session.scalar(select(Transfer.id).where(Transfer.member_id == member.id, Transfer.status == "issued")):
        raise ValidationError(details={"member_id": ["Đã có giấy chuyển đang chờ. / A transfer is already pending."]})
    transfer = Transfer(
        member_id=member.id,
        kind=kind,
        from_organization_id=member.organization_id,
        to_organization_id=target.id,
        note=note,
        issued_by=actor.member.id,
    )
    session.add(transfer)
    session.flush()
    _audit(uow, actor.member.id, "transfer.issue", member, None, transfer_json(transfer))
    uow.publish(
        "members.transfer_issued",
        {
            "transfer_id": transfer.id,
            "member_id": member.id,
            "kind": kind,
            "from_organization_id": transfer.from_organization_id,
            "to_organization_id": target.id,
        },
    )
    return transfer_json(transfer)


def transfer_json(transfer):
    return {
        "id": transfer.id,
        "member_id": transfer.member_id,
        "kind": transfer.kind,
        "status": transfer.status,
        "from_organization_id": transfer.from_organization_id,
        "to_organization_id": transfer.to_organization_id,
        "note": transfer.note,
    }


def incoming_transfers(session, actor):
    rows = session.execute(
        select(Transfer, Organization)
        .join(Organization, Organization.id == Transfer.to_organization_id)
        .where(Transfer.status == "issued")
    ).all()
    return {"items": [transfer_json(t) for t, org in rows if actor.manages(org.path)], "next_cursor": None}


def accept_transfer(uow, actor, transfer_id):
    session = uow.session
    transfer = session.get(Transfer, transfer_id)
    target = session.get(Organization, transfer.to_organization_id) if transfer else None
    if transfer is None or not actor.manages(target.path):
        raise NotFound()
    if transfer.status != "issued":
        raise ValidationError(details={"status": [f"already {transfer.status}"]})
    member = session.get(Member, transfer.member_id)
    if member.id == actor.member.id:
        raise refusal(actor, member)
    if member.organization_id != transfer.from_organization_id:
        # the member moved since (a merge): the sender's paper no longer describes them
        raise Conflict(
            details={"status": ["Giấy chuyển đã cũ: hãy lập giấy mới. / The transfer is stale: issue a new one."]}
        )
    transfer.status = "accepted"
    transfer.accepted_by = actor.member.id
    transfer.accepted_at = utcnow()
    apply_changes(
        uow,
        actor.member.id,
        member,
        {"organization_id": target.id, "organization_path": target.path},
        action="transfer.accept",
        note=f"transfer {transfer.id}",
    )
    uow.publish(
        "members.member_transferred",
        {
            "member_id": member.id,
            "kind": transfer.kind,
            "from_organization_id": transfer.from_organization_id,
            "to_organization_id": target.id,
        },
    )
    return transfer_json(transfer)


def add_record(uow, actor, member_id, record):
    member = decided_member(uow.session, actor, member_id)
    row = MemberRecord(member_id=member.id, created_by=actor.member.id, **record)
    uow.session.add(row)
    uow.session.flush()
    _audit(uow, actor.member.id, "record.add", member, None, record_json(row))
    return record_json(row)


def record_json(row):
    return {
        "id": row.id,
        "kind": row.kind,
        "title": row.title,
        "detail": row.detail,
        "start_date": _iso(row.start_date),
        "end_date": _iso(row.end_date),
    }


def list_records(session, actor, member_id):
    member = session.get(Member, member_id)
    if member is None or not (member.id == actor.member.id or actor.manages(member.organization_path)):
        raise NotFound()
    rows = session.scalars(
        select(MemberRecord)
        .where(MemberRecord.member_id == member.id)
        .order_by(MemberRecord.start_date, MemberRecord.id)
    ).all()
    return {"items": [record_json(r) for r in rows], "next_cursor": None}


def _position_giver(actor, organization, role):
    """An organisation's positions are given and ended from the committee above it (a party group's by
    its branch's officers), or by a system administrator; administrators only by an administrator."""
    if organization is None or not actor.manages(organization.path) or (role == ADMIN_ROLE and not actor.is_admin):
        raise NotFound()
    if not actor.presides_over(organization.path):
        raise Forbidden(message=FROM_ABOVE)


def appoint(uow, actor, member_id, organization_id, role):
    """An officer (or an administrator) gives a member a position: checked, audited, published."""
    from services.members.domain import record_position

    session = uow.session
    member = decided_member(session, actor, member_id)
    organization = session.get(Organization, organization_id)
    _position_giver(actor, organization, role)
    if any(p.organization_id == organization.id and p.role == role for p in member.positions):
        raise ValidationError(details={"role": ["Đã giữ chức vụ này. / Already holds this position."]})
    record_position(uow, member, organization, role)
    _audit(uow, actor.member.id, "position.assign", member, None, {"organization_id": organization.id, "role": role})
    session.refresh(member)
    return member_json(member)


def remove_position(uow, actor, member_id, organization_id, role):
    session = uow.session
    member = decided_member(session, actor, member_id)
    position = next((p for p in member.positions if p.organization_id == organization_id and p.role == role), None)
    if position is None:
        raise NotFound()
    _position_giver(actor, position.organization, role)
    uow.publish(
        "members.position_changed",
        {
            "member_id": member.id,
            "organization_id": organization_id,
            "organization_path": position.organization.path,
            "role": role,
            "action": "removed",
        },
    )
    session.delete(position)
    _audit(uow, actor.member.id, "position.remove", member, {"organization_id": organization_id, "role": role}, None)
    session.flush()
    session.refresh(member)
    return member_json(member)
