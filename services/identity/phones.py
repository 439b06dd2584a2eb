"""Which phone a code may go to, and how a phone becomes trusted.

A phone is a channel for codes only if it is the phone imported from the party
member database (the one present when identity first learned of the member, or
brought by an import's bulk re-read), or a phone a code reached and was entered
(activation, reset, or a confirmation in the member's own session together with
the current password). A phone changed afterwards in members' record (by an
officer, or by the member with a possibly stolen token) is kept as unverified.

Every change of the trusted phone and every password reset is told to the phone
and e-mail trusted before it, with a "not me" code that freezes the account.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from shared.contracts.identity import InvalidCredentials
from shared.db import utcnow
from shared.errors import NotFound, SotayError, ValidationError
from services.identity import activation, passwords, throttle
from services.identity.models import Account, Challenge, DirectoryEntry, FreezeCode, directory
from services.identity.trail import audit

FREEZE_CODE_TTL = timedelta(days=30)
FREEZE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from an SMS
PHONE_CHECK = "phone"  # the challenge purpose of a confirmation in the member's own session


@dataclass
class Notice:
    phone: str
    email: str
    subject: str
    text: str


def _account(session, citizen_id):
    return session.scalar(select(Account).where(Account.citizen_id == citizen_id))


def freeze_code_hash(code):
    normalized = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return hmac.new(activation.otp_key(), f"freeze:{normalized}".encode(), hashlib.sha256).hexdigest()


def new_freeze_code():
    letters = "".join(secrets.choice(FREEZE_ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


WHAT_CHANGED = {
    "phone_changed": (
        "số điện thoại trong hồ sơ của đồng chí vừa được thay đổi",
        "the phone on your record was changed",
    ),
    "phone_verified": (
        "một số điện thoại mới vừa được xác minh cho tài khoản của đồng chí",
        "a new phone was confirmed for your account",
    ),
    "password_reset": ("mật khẩu tài khoản của đồng chí vừa được đặt lại", "your account's password was reset"),
}


def notice(session, entry, account, what, previous_phone=None, previous_email=None):
    """A security notice to the phone and e-mail trusted before the change (None if there is neither)."""
    phone = previous_phone if previous_phone is not None else activation.channel(entry, account)
    email = previous_email if previous_email is not None else entry.email
    phone, email = phone or None, email or None
    if not phone and not email:
        return None
    code = new_freeze_code()
    session.add(
        FreezeCode(
            code_hash=freeze_code_hash(code),
            member_id=entry.member_id,
            citizen_id=entry.citizen_id,
            restore_phone=phone,
            expires_at=utcnow() + FREEZE_CODE_TTL,
        )
    )
    vi, en = WHAT_CHANGED[what]
    text = (
        f'Sổ tay: {vi}. Nếu không phải đồng chí, hãy nhập mã {code} tại mục "Không phải tôi" (Not me) để khoá '
        f'tài khoản ngay. / Sổ tay: {en}. If this was not you, enter {code} under "Not me" to freeze your '
        f"account at once."
    )
    return Notice(phone=phone, email=email, subject="Sổ tay: cảnh báo bảo mật / security notice", text=text)


def project_member(session, snapshot, imported=False):
    """Project a member snapshot (shared/directory.py); returns a Notice when the member's phone changed
    (told to the phone trusted before), else None.

    The phone present when identity first learns of a member is the imported one; later
    changes are trusted only when they come through an import's bulk re-read (`imported`).
    """
    change = directory.project_member(session, snapshot)
    if change is None:
        return None
    entry, new_phone = change.row, change.row.phone
    if change.before is None:
        entry.imported_phone = new_phone
        return None
    previous_phone, previous_email = change.before["phone"], change.before["email"]
    if imported:
        # an import restating the imported phone changes nothing (a phone verified since stays)
        if new_phone == entry.imported_phone:
            return None
        account = _account(session, entry.citizen_id)
        previous = activation.channel(entry, account)
        entry.imported_phone = new_phone
        if account is not None and account.verified_phone:
            account.verified_phone = new_phone
        if previous == new_phone:
            return None
        return notice(
            session, entry, account, "phone_changed", previous_phone=previous or "", previous_email=previous_email or ""
        )
    if new_phone == previous_phone:
        return None
    return notice(
        session, entry, _account(session, entry.citizen_id), "phone_changed", previous_email=previous_email or ""
    )


def start_verification(uow, principal, phone_given, client=None):
    """A code to the phone the member names (or the one now in their record), audited. Returns (answer, Sms)."""
    session = uow.session
    client_address = (client or {}).get("address")
    entry = session.get(DirectoryEntry, principal.member_id)
    if entry is None:
        raise NotFound()
    phone = phone_given or entry.phone
    if phone is None:
        raise ValidationError(
            details={
                "phone": [
                    (
                        "Chưa có số điện thoại: hãy nhập số cần xác minh, ví dụ 0912345678. / "
                        "No phone on record: give the one to confirm, e.g. 0912345678."
                    )
                ]
            }
        )
    activation.check_request_limits(session, entry.citizen_id, PHONE_CHECK, client_address)
    challenge = Challenge(
        id=str(uuid.uuid4()),
        purpose=PHONE_CHECK,
        citizen_id=entry.citizen_id,
        member_id=entry.member_id,
        member_path=entry.organization_path,
        phone=phone,
        phone_on_record=0,
        attempts=0,
        status="pending_approval",
        client_address=client_address,
    )
    session.add(challenge)
    sms = activation.send_code(session, challenge)
    audit(
        session,
        "phone_verification",
        "code_sent",
        citizen_id=principal.citizen_id,
        member_id=principal.member_id,
        client=client,
    )
    return {
        "id": challenge.id,
        "status": challenge.status,
        "channel": "sms",
        "destination": activation.mask(phone),
    }, sms


def confirm_verification(uow, principal, challenge_id, otp, current_password, client=None):
    """The code and the current password: the phone becomes the member's channel. Returns the Notice
    to the phone trusted before (or None). Audited; a wrong password or code counts: commit on errors."""
    session = uow.session
    try:
        notice = _confirm(session, principal, challenge_id, otp, current_password)
    except SotayError as exc:
        audit(
            session,
            "phone_verification",
            exc.code,
            citizen_id=principal.citizen_id,
            member_id=principal.member_id,
            client=client,
        )
        raise
    audit(
        session,
        "phone_verification",
        "verified",
        citizen_id=principal.citizen_id,
        member_id=principal.member_id,
        client=client,
    )
    return notice


def _confirm(session, principal, challenge_id, otp, current_password):
    challenge = session.get(Challenge, challenge_id, with_for_update=True)  # spent on one replica only
    if challenge is None or challenge.purpose != PHONE_CHECK or challenge.member_id != principal.member_id:
        raise NotFound()
    throttle.check(session, principal.citizen_id)
    account = _account(session, principal.citizen_id)
    if account is None or not passwords.verify(account.password_hash, current_password):
        throttle.record_failure(session, principal.citizen_id)
        raise InvalidCredentials(message="Mật khẩu hiện tại không đúng. / The current password is incorrect.")
    activation.check_code(challenge, otp)
    entry = session.get(DirectoryEntry, principal.member_id)
    previous = activation.channel(entry, account)
    account.verified_phone = challenge.phone
    if previous == challenge.phone:
        return None
    return notice(session, entry, account, "phone_verified", previous_phone=previous or "")
