"""A member's data in identity: theirs to take, and erased when members orders it (members decides an erasure:
an administrator asked, with a reason; services/members/privacy.py).

Export: the account (activated when and how, the phone codes go to, frozen or not), what identity's directory holds
of them, their sessions, VNeID links, codes and requests, and their own trail of sign-ins and codes.

Erasure: every session ends first (their tokens are refused everywhere at once), then the account, its refresh tokens,
VNeID links, codes and requests, "not me" codes and the sign-in throttle go; the trail keeps its entries (what
happened, when, to which member id) without the citizen ID, client address or details; the directory drops the
member and takes no later snapshot of them. The erasure is in the trail too: who asked, and why.
"""

from sqlalchemy import delete, false, null, or_, select, update

from shared.db import aware
from shared.errors import NotFound
from services.identity.domain import list_sessions, revoke_all
from services.identity.models import (
    Account,
    AuditEvent,
    Challenge,
    FreezeCode,
    LoginThrottle,
    RefreshToken,
    VneidLink,
    directory,
)
from services.identity.trail import audit


def _iso(value):
    return aware(value).isoformat() if value is not None else None


def _about(model, member_id, citizen_id):
    """Rows of `model` about this member: by member id, or by citizen ID while it is known."""
    return or_(model.member_id == member_id, model.citizen_id == citizen_id if citizen_id else false())


def export(session, principal, member_id):
    """Everything identity keeps about `member_id`, for that member alone."""
    if member_id != principal.member_id:
        raise NotFound()
    entry = session.get(directory.Membership, member_id)
    account = session.scalar(select(Account).where(Account.citizen_id == principal.citizen_id))
    challenges = session.scalars(
        select(Challenge)
        .where(_about(Challenge, member_id, principal.citizen_id), Challenge.decoy == 0)
        .order_by(Challenge.created_at)
    )
    trail = session.scalars(
        select(AuditEvent).where(_about(AuditEvent, member_id, principal.citizen_id)).order_by(AuditEvent.id)
    )
    links = session.scalars(select(VneidLink).where(VneidLink.citizen_id == principal.citizen_id))
    return {
        "account": account
        and {
            "citizen_id": account.citizen_id,
            "activated_at": _iso(account.activated_at),
            "activation_method": account.activation_method,
            "verified_phone": account.verified_phone,
            "frozen_at": _iso(account.frozen_at),
        },
        "directory": entry
        and {
            "full_name": entry.full_name,
            "phone": entry.phone,
            "imported_phone": entry.imported_phone,
            "email": entry.email,
            "status": entry.status,
        },
        "sessions": list_sessions(session, principal)["items"] if account else [],
        "vneid": [{"issuer": link.issuer, "linked_at": _iso(link.linked_at)} for link in links],
        "codes": [
            {"purpose": c.purpose, "status": c.status, "phone": c.phone, "requested_at": _iso(c.created_at)}
            for c in challenges
        ],
        "sign_in_trail": [
            {"at": _iso(e.at), "action": e.action, "outcome": e.outcome, "client_address": e.client_address}
            for e in trail
        ],
    }


def erase(uow, principal, member_id, reason, client=None):
    """Erase what identity keeps of `member_id` (members' order for the administrator `principal`). Answers how
    many of what went, never what."""
    session = uow.session
    entry = session.get(directory.Membership, member_id)
    citizen_id = entry.citizen_id if entry is not None else None
    account = session.scalar(select(Account).where(Account.citizen_id == citizen_id)) if citizen_id else None
    done = {"account": 0, "refresh_tokens": 0}
    if account is not None:
        revoke_all(uow, account.id)
        done["refresh_tokens"] = _delete(session, RefreshToken, RefreshToken.account_id == account.id)
        done["account"] = _delete(session, Account, Account.id == account.id)
    done["vneid_links"] = _delete(session, VneidLink, VneidLink.citizen_id == citizen_id) if citizen_id else 0
    done["codes"] = _delete(session, Challenge, _about(Challenge, member_id, citizen_id))
    done["freeze_codes"] = _delete(session, FreezeCode, _about(FreezeCode, member_id, citizen_id))
    if citizen_id:
        _delete(session, LoginThrottle, LoginThrottle.citizen_id == citizen_id)
    # the database lets the trail be changed in this one way only: personal fields cleared (migration 0006)
    done["trail_entries_cleared"] = session.execute(
        update(AuditEvent)
        .where(_about(AuditEvent, member_id, citizen_id))
        .values(citizen_id=None, client_address=None, detail=null())
    ).rowcount
    directory.erase(session, member_id)
    audit(
        session,
        "erasure",
        "erased",
        member_id=member_id,
        client=client,
        detail={"requested_by": principal.member_id, "reason": reason},
    )
    return done


def _delete(session, model, *where):
    return session.execute(delete(model).where(*where)).rowcount
