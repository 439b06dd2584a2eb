"""A member's data, theirs to take and erasable on request (the personal data law): members' part.

Export: what members keeps about the caller (their record, organisation, positions, file, change requests,
transfers and the trail of changes to their record), to the member themselves only.

Erasure: a system administrator's decision, with a reason, never about themselves. identity and notify erase theirs
first (ordered by members over RPC, while they still know who the member is); then the record becomes a pseudonymous
tombstone, kept so that figures and history stay consistent (the member still counts by status and organisation,
transfers and decisions still name an id) but holding no name, citizen ID, dates, contact or card: their file, change
requests, pending transfers and registrations clashing with them are deleted, their positions end, and the before and
after of audit entries about them are cleared. The erasure is audited (who, when, why; never what), and other services
hear `members.member_erased`. A tombstone is never edited, republished or re-read.
"""

from sqlalchemy import delete, null, select, update

from shared.db import aware, utcnow
from shared.errors import Forbidden, NotFound
from services.members import counts
from services.members.changes import change_request_json, personal_record, record_json, transfer_json
from services.members.domain import organization_json, refusal, search_key
from services.members.models import (
    AuditEntry,
    ChangeRequest,
    ImportRow,
    Member,
    MemberRecord,
    Organization,
    Registration,
    Transfer,
)

ERASED_NAME = "Đã xoá / Erased"


def export(session, actor, member_id):
    """Everything members keeps about `member_id`, for that member alone."""
    member = actor.member
    if member_id != member.id:
        raise NotFound()
    rows = {
        model: session.scalars(select(model).where(model.member_id == member.id).order_by(model.id)).all()
        for model in (MemberRecord, ChangeRequest, Transfer)
    }
    history = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_type == "member", AuditEntry.subject_id == member.id)
        .order_by(AuditEntry.id)
    )
    return {
        "record": {**personal_record(member), "activated": member.activated},
        "organization": organization_json(session.get(Organization, member.organization_id)),
        "positions": [{"role": p.role, "organization_id": p.organization_id} for p in member.positions],
        "records": [record_json(row) for row in rows[MemberRecord]],
        "change_requests": [change_request_json(row) for row in rows[ChangeRequest]],
        "transfers": [transfer_json(row) for row in rows[Transfer]],
        "history": [
            {"at": entry.at.isoformat(), "action": entry.action, "before": entry.before, "after": entry.after}
            for entry in history
        ],
    }


def erase(uow, actor, member_id, reason, elsewhere):
    """Erase a member everywhere: `elsewhere(member_id, reason)` has the other services erase theirs and returns
    what they erased. Answers what was erased where (how many of what: never the data)."""
    session = uow.session
    if not actor.is_admin:
        raise Forbidden()
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound()
    if member.id == actor.member.id:
        raise refusal(actor, member)
    if member.erased_at is None:
        erased = {**elsewhere(member.id, reason), "members": _tombstone(uow, member)}
        uow.session.add(
            AuditEntry(
                actor_member_id=actor.member.id,
                action="member.erased",
                subject_type="member",
                subject_id=member.id,
                note=reason,
                correlation_id=uow.context.get("correlation_id"),
                client_address=uow.context.get("client_address"),
            )
        )
        uow.publish("members.member_erased", {"member_id": member.id})
    else:
        erased = {}  # asked again: nothing left to erase
    return {
        "member_id": member.id,
        "status": "erased",
        "erased_at": aware(member.erased_at).isoformat(),
        "erased": erased,
    }


def _tombstone(uow, member):
    session = uow.session
    old_path, old_values = member.organization_path, counts.values_of(member)
    for position in list(member.positions):
        uow.publish(
            "members.position_changed",
            {
                "member_id": member.id,
                "organization_id": position.organization_id,
                "organization_path": position.organization.path,
                "role": position.role,
                "action": "removed",
            },
        )
        session.delete(position)
    clashing = select(Registration.id).where(
        (Registration.member_id == member.id) | (Registration.citizen_id == member.citizen_id)
    )
    done = {
        "records": _delete(session, MemberRecord, MemberRecord.member_id == member.id),
        "change_requests": _delete(session, ChangeRequest, ChangeRequest.member_id == member.id),
        "pending_transfers": _delete(session, Transfer, Transfer.member_id == member.id, Transfer.status == "issued"),
        "history_entries": session.execute(
            update(AuditEntry)
            .where(
                ((AuditEntry.subject_type == "member") & (AuditEntry.subject_id == member.id))
                | ((AuditEntry.subject_type == "registration") & AuditEntry.subject_id.in_(clashing))
            )
            .values(before=null(), after=null())
        ).rowcount,
        "registrations": _delete(session, Registration, Registration.id.in_(clashing)),
        "staged_import_rows": _delete(session, ImportRow, ImportRow.citizen_id == member.citizen_id),
    }
    session.execute(update(Transfer).where(Transfer.member_id == member.id).values(note=None))
    for field in (
        "date_of_birth",
        "gender",
        "phone",
        "email",
        "party_card_number",
        "admission_date",
        "official_date",
        "left_on",
        "leaving_reason",
    ):
        setattr(member, field, None)
    member.full_name, member.search_name = ERASED_NAME, search_key(ERASED_NAME)
    member.citizen_id = f"X{member.id:011d}"  # unique, and never a citizen ID (those are digits only)
    member.erased_at = utcnow()
    session.flush()
    counts.move(session, old_path, old_values, member.organization_path, counts.values_of(member))
    return done


def _delete(session, model, *where):
    return session.execute(delete(model).where(*where)).rowcount
