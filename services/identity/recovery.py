"""Who may confirm a phone for someone else's account, and release a frozen one.

- Nobody decides about themselves.
- An account without any position: an officer (secretary, deputy, committee member)
  of the member's *current* organisation or one above it, or a system administrator.
  The request follows the member: the organisation is read at decision time.
- An account holding any position (administrators included): a system administrator.
- Never to a phone that is on record for the one deciding.
"""

from sqlalchemy import select, update

from shared.contracts.identity import InvalidCode
from shared.db import aware, utcnow
from shared.errors import Forbidden, NotFound, ValidationError
from services.identity import activation, phones
from services.identity.domain import revoke_all
from services.identity.models import Account, Challenge, DirectoryEntry, FreezeCode, directory
from services.identity.trail import audit

OFFICERS, ADMINISTRATORS = "officers", "administrators"  # the two queues


class Authority:
    """What one officer or administrator may decide (their scope, read once for a whole list)."""

    def __init__(self, session, decider_id):
        self.scope = directory.scope(session, decider_id)

    def covers(self, entry, holds_position):
        """About the member `entry`, now: never oneself; position holders only for administrators."""
        if entry is None or entry.member_id == self.scope.member_id:
            return False
        return self.scope.administrator or (not holds_position and self.scope.manages(entry.organization_path))


def _holds_position(session, member_id):
    return bool(directory.position_holders(session, [member_id]))


def queue_of(session, member_id):
    """Where a request about this member is decided: position holders go to administrators."""
    return ADMINISTRATORS if _holds_position(session, member_id) else OFFICERS


def may_decide(session, decider_id, entry):
    return entry is not None and Authority(session, decider_id).covers(entry, _holds_position(session, entry.member_id))


def _authority(session, decider_id, queue):
    authority = Authority(session, decider_id)
    if queue == ADMINISTRATORS and not authority.scope.administrator:
        raise Forbidden()
    return authority


def pending_requests(session, decider_id, queue=OFFICERS):
    """Phone confirmations this officer (or administrator) may decide, oldest first."""
    authority = _authority(session, decider_id, queue)
    rows = session.execute(
        select(Challenge, DirectoryEntry)
        .join(DirectoryEntry, DirectoryEntry.member_id == Challenge.member_id)
        .where(
            Challenge.status == "pending_approval",
            Challenge.decoy == 0,
            Challenge.purpose.in_((activation.ACTIVATION, activation.PASSWORD_RESET)),
        )
        .order_by(Challenge.created_at)
    ).all()
    holders = directory.position_holders(session, {d.member_id for _, d in rows})
    items = [
        {
            "id": c.id,
            "purpose": c.purpose,
            "member_id": c.member_id,
            "full_name": d.full_name,
            "phone": c.phone,
            "requested_at": aware(c.created_at).isoformat(),
        }
        for c, d in rows
        if (d.member_id in holders) == (queue == ADMINISTRATORS) and authority.covers(d, d.member_id in holders)
    ]
    return {"items": items, "next_cursor": None}


def _own_phones(session, member_id):
    entry = session.get(DirectoryEntry, member_id)
    if entry is None:
        return set()
    account = session.scalar(select(Account).where(Account.citizen_id == entry.citizen_id))
    return {entry.phone, entry.imported_phone, account.verified_phone if account else None} - {None}


def decide(uow, decider_id, challenge_id, approve, queue=OFFICERS, client=None):
    """Confirm (a code goes to the phone) or refuse (the phone is told), audited. Returns the SMS to send."""
    session = uow.session
    _authority(session, decider_id, queue)
    challenge = session.get(Challenge, challenge_id)
    entry = session.get(DirectoryEntry, challenge.member_id) if challenge is not None and not challenge.decoy else None
    if (
        entry is None
        or challenge.purpose not in (activation.ACTIVATION, activation.PASSWORD_RESET)
        or queue_of(session, entry.member_id) != queue
        or not may_decide(session, decider_id, entry)
    ):
        raise NotFound()
    if challenge.status != "pending_approval":
        raise ValidationError(details={"status": [f"already {challenge.status}"]})
    if approve and challenge.phone in _own_phones(session, decider_id):
        raise ValidationError(
            details={
                "phone": [
                    (
                        "Không thể xác nhận số điện thoại của chính mình cho tài khoản người khác. / "
                        "You cannot confirm your own phone for someone else's account."
                    )
                ]
            }
        )
    challenge.decided_by = decider_id
    challenge.decided_at = utcnow()
    audit(
        session,
        f"phone_confirmation_{queue}",
        "approved" if approve else "denied",
        member_id=decider_id,
        client=client,
        detail={"challenge_id": challenge_id},
    )
    if approve:
        return activation.send_code(session, challenge)
    challenge.status = "denied"
    return activation.Sms(
        challenge.phone,
        "Sổ tay: chưa xác nhận số điện thoại này cho tài khoản của đồng chí; "
        "vui lòng liên hệ bí thư chi bộ. / This phone was not confirmed for "
        "your account; please contact your branch secretary.",
    )


def freeze(uow, code, client=None):
    """ "Not me": end every session, refuse sign-in and resets, keep the channel the notice went to; audited,
    a wrong code too (commit on errors)."""
    session = uow.session
    row = session.get(FreezeCode, phones.freeze_code_hash(code))
    if row is None or aware(row.expires_at) <= utcnow():
        audit(session, "freeze", "invalid_code", client=client)
        raise InvalidCode()
    row.used_at = row.used_at or utcnow()
    account = session.scalar(select(Account).where(Account.citizen_id == row.citizen_id))
    if account is None:
        account = Account(citizen_id=row.citizen_id)
        session.add(account)
        session.flush()
    account.frozen_at = account.frozen_at or utcnow()
    if row.restore_phone:
        account.verified_phone = row.restore_phone
    revoke_all(uow, account.id)
    # codes and confirmations in flight die with it
    session.execute(
        update(Challenge)
        .where(Challenge.citizen_id == row.citizen_id, Challenge.status.in_(("pending_approval", "code_sent")))
        .values(status="denied")
    )
    audit(session, "freeze", "frozen", member_id=row.member_id, client=client)


def frozen_accounts(session, decider_id):
    rows = session.execute(
        select(Account, DirectoryEntry)
        .join(DirectoryEntry, DirectoryEntry.citizen_id == Account.citizen_id)
        .where(Account.frozen_at.is_not(None))
        .order_by(Account.frozen_at)
    ).all()
    authority = Authority(session, decider_id)
    holders = directory.position_holders(session, {d.member_id for _, d in rows})
    items = [
        {"member_id": d.member_id, "full_name": d.full_name, "frozen_at": aware(a.frozen_at).isoformat()}
        for a, d in rows
        if authority.covers(d, d.member_id in holders)
    ]
    return {"items": items, "next_cursor": None}


def release(uow, decider_id, member_id, client=None):
    session = uow.session
    entry = session.get(DirectoryEntry, member_id)
    account = session.scalar(select(Account).where(Account.citizen_id == entry.citizen_id)) if entry else None
    if account is None or account.frozen_at is None or not may_decide(session, decider_id, entry):
        raise NotFound()
    account.frozen_at = None
    audit(
        session,
        "freeze",
        "released",
        citizen_id=entry.citizen_id,
        member_id=entry.member_id,
        client=client,
        detail={"released_by": decider_id},
    )
