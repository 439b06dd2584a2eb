"""One-time codes: first sign-in (activation), forgotten password, and the officer's
confirmation of a phone that is not the member's trusted channel (phones.py).

A code is 6 digits from a CSPRNG, valid 5 minutes, single use, bound to its
challenge (the HMAC covers the challenge id), at most 5 wrong tries; a new
request no sooner than 60 s after the last and at most 5 an hour per citizen ID,
and a limit per client address. A phone that is not trusted is never believed on
the requester's word: an officer (or an administrator, recovery.py) confirms it.

Whether someone is a party member is itself sensitive: every request is stored
and answered alike, a member's or not. An unknown citizen ID, a member who may
not have a code now (not rolled out, no trusted phone, already activated, frozen)
gets a *blind* challenge: the same answer, the same follow-ups, nothing sent
(a member hears why by SMS where that is safe). `phone_required` and
`not_rolled_out` are never answered.
"""

import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from shared.contracts.common import left_party
from shared.contracts.identity import CodeExpired, InvalidCode, PendingApproval, WeakPassword
from shared.contracts.members import SIGN_IN_OPEN
from shared.db import aware, take_turns, utcnow
from shared.errors import NotFound, TooManyAttempts
from services.identity import passwords, policy
from services.identity.keys import keys_dir
from services.identity.models import Account, Challenge, DirectoryEntry, directory
from services.identity.throttle import too_many_attempts

CODE_TTL = timedelta(minutes=5)
MAX_WRONG_CODES = 5
RESEND_GAP = timedelta(seconds=60)
SENDS_PER_HOUR = 5
REQUESTS_PER_ADDRESS = 20  # an hour: a family or a branch meeting behind one mobile IP stays well under it
ACTIVATION, PASSWORD_RESET = "activation", "password_reset"
KEPT = timedelta(days=7)  # then every request is forgotten, decided or not (alike for blind ones)


@dataclass
class Sms:
    to: str
    text: str


def mask(phone):
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]


_otp_key = None


def otp_key():
    """The HMAC key for stored codes: IDENTITY_OTP_KEY, else a key file beside the signing keys."""
    global _otp_key
    if _otp_key is None:
        from shared import config

        configured = config.get("IDENTITY_OTP_KEY")
        if configured:
            _otp_key = configured.encode()
        else:
            path = keys_dir() / "otp.key"
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(secrets.token_bytes(32))
            _otp_key = path.read_bytes()
    return _otp_key


def code_hash(challenge_id, code):
    return hmac.new(otp_key(), f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code():
    return f"{secrets.randbelow(1_000_000):06d}"


def code_text(purpose, code):
    what = ("kích hoạt tài khoản", "activation") if purpose == ACTIVATION else ("đặt lại mật khẩu", "password reset")
    return (
        f"Sổ tay: mã {what[0]} của đồng chí là {code}, hiệu lực 5 phút. Không chia sẻ mã này cho ai. / "
        f"Sổ tay {what[1]} code: {code} (valid 5 minutes). Never share it."
    )


def rolled_out(session, path):
    return directory.rolled_out(session, path, SIGN_IN_OPEN)


def channel(entry, account):
    """Where codes for this member may go: the phone a code reached, else the imported one (see phones.py)."""
    if account is not None and account.verified_phone:
        return account.verified_phone
    return entry.imported_phone if entry is not None else None


def _blind_destination(citizen_id):
    """A phone-shaped destination for a blind challenge, stable per citizen ID (as a member's is)."""
    digest = hmac.new(otp_key(), f"destination:{citizen_id}".encode(), hashlib.sha256).hexdigest()
    return "+849" + f"{int(digest[:12], 16) % 10**8:08d}"


def prune(session, now=None):
    session.execute(delete(Challenge).where(Challenge.created_at < (now or utcnow()) - KEPT))


def requests_per_address():
    from shared import config

    return int(config.get("CODE_REQUESTS_PER_ADDRESS_PER_HOUR") or REQUESTS_PER_ADDRESS)


def check_request_limits(session, citizen_id, purpose, client_address=None):
    """Every request for a code or for an officer's confirmation counts: a new one of the same
    purpose waits 60 s (unless an officer decided the last), at most 5 an hour per citizen ID,
    and `requests_per_address()` an hour from one client address."""
    take_turns(session, f"codes:{citizen_id}")  # two replicas never both find room for one more code
    now = utcnow()
    hour_ago = now - timedelta(hours=1)
    recent = session.execute(
        select(Challenge.created_at, Challenge.purpose, Challenge.decided_by)
        .where(Challenge.citizen_id == citizen_id, Challenge.created_at > hour_ago)
        .order_by(Challenge.created_at.desc())
    ).all()
    # a request an officer already refused does not hold up the next one (it still counts in the hour)
    last_same = next((aware(at) for at, kind, decided in recent if kind == purpose and decided is None), None)
    if last_same and last_same + RESEND_GAP > now:
        raise too_many_attempts((last_same + RESEND_GAP - now).total_seconds())
    if len(recent) >= SENDS_PER_HOUR:
        raise too_many_attempts((aware(recent[-1][0]) + timedelta(hours=1) - now).total_seconds())
    if client_address:
        limit = requests_per_address()
        from_address = session.scalars(
            select(Challenge.created_at)
            .where(Challenge.client_address == client_address, Challenge.created_at > hour_ago)
            .order_by(Challenge.created_at.desc())
            .limit(limit)
        ).all()
        if len(from_address) >= limit:
            raise too_many_attempts((aware(from_address[-1]) + timedelta(hours=1) - now).total_seconds())


def send_code(session, challenge):
    """Issue a fresh code for `challenge`; earlier codes of that citizen and purpose stop working."""
    session.execute(
        update(Challenge)
        .where(
            Challenge.citizen_id == challenge.citizen_id,
            Challenge.purpose == challenge.purpose,
            Challenge.status == "code_sent",
            Challenge.id != challenge.id,
        )
        .values(status="superseded")
    )
    code = new_code()
    now = utcnow()
    challenge.status = "code_sent"
    challenge.code_hash = code_hash(challenge.id, code)
    challenge.attempts = 0
    challenge.sent_at = now
    challenge.expires_at = now + CODE_TTL
    return Sms(challenge.phone, code_text(challenge.purpose, code))


FROZEN_TEXT = (
    "Sổ tay: tài khoản của đồng chí đang tạm khoá nên không gửi mã; hãy liên hệ bí thư chi bộ. / "
    "Your Sổ tay account is frozen, so no code was sent; please contact your branch secretary."
)
NOT_ROLLED_OUT_TEXT = (
    "Sổ tay: đảng bộ của đồng chí chưa triển khai Sổ tay; đồng chí sẽ được báo qua SMS khi có thể "
    "kích hoạt. / Your party committee has not started using Sổ tay yet; you will be told by SMS "
    "when you can activate."
)


def answer_of(challenge):
    """What the client sees of a challenge: the same keys in the same order, whatever it is."""
    return {
        "activation_id": challenge.id,
        "status": challenge.status,
        "channel": "sms",
        "destination": mask(challenge.phone),
    }


def _why_blind(session, purpose, entry, account, trusted):
    """None when this member may get a code now; else an SMS that tells them why not (or True: say nothing)."""
    activated = account is not None and account.activated_at is not None
    if entry is None or left_party(entry.status) or (purpose == ACTIVATION) == activated:
        return True
    if not rolled_out(session, entry.organization_path):
        return Sms(trusted, NOT_ROLLED_OUT_TEXT) if trusted else True
    if account is not None and account.frozen_at is not None:
        return Sms(trusted, FROZEN_TEXT) if trusted else True
    return None


def request_code(session, purpose, citizen_id, phone_given=None, client_address=None):
    """Start an activation or a reset. Returns (answer for the client, SMS to send or None).

    Codes go only to the member's trusted channel; a phone given that is not it waits for
    an officer's (or an administrator's) confirmation. Everything else is a blind challenge.
    """
    prune(session)
    check_request_limits(session, citizen_id, purpose, client_address)
    entry = session.scalar(select(DirectoryEntry).where(DirectoryEntry.citizen_id == citizen_id))
    account = session.scalar(select(Account).where(Account.citizen_id == citizen_id))
    trusted = channel(entry, account)
    why_blind = _why_blind(session, purpose, entry, account, trusted)
    blind = why_blind is not None or (trusted is None and phone_given is None)
    challenge = Challenge(
        id=str(uuid.uuid4()),
        purpose=purpose,
        citizen_id=citizen_id,
        member_id=entry.member_id if entry else 0,
        member_path=entry.organization_path if entry else "",
        phone=trusted,
        phone_on_record=1,
        status="pending_approval",
        attempts=0,
        client_address=client_address,
        decoy=int(blind),
    )
    told = why_blind if isinstance(why_blind, Sms) else None
    if phone_given is not None and phone_given != trusted:
        challenge.phone, challenge.phone_on_record = phone_given, 0
        session.add(challenge)
        return answer_of(challenge), told
    if blind:
        challenge.phone = _blind_destination(citizen_id)
    session.add(challenge)
    sms = send_code(session, challenge)  # a blind challenge's code reaches nobody: its follow-ups behave alike
    return answer_of(challenge), told if blind else sms


def audit_outcome(answer, session):
    """For the audit trail only (never the client): whether a request reached a member."""
    challenge = session.get(Challenge, answer["activation_id"])
    return f"blind_{challenge.status}" if challenge.decoy else challenge.status


def challenge_status(session, challenge_id):
    challenge = session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound()
    return answer_of(challenge)


def check_code(challenge, otp, before_spending=None):
    """Spend `otp` on a challenge whose code was sent: raises on a wrong, expired or spent code
    (a wrong one counts; the fifth ends the challenge), else calls `before_spending()` (which may
    refuse without spending the code) and marks it completed. A blind challenge never matches."""
    if challenge.status == "pending_approval":
        raise PendingApproval()
    if challenge.status == "failed":
        raise TooManyAttempts(
            message="Đã nhập sai quá 5 lần, hãy yêu cầu mã mới. / Too many wrong codes; ask for a new one."
        )
    if challenge.status != "code_sent":
        raise InvalidCode()
    if aware(challenge.expires_at) <= utcnow():
        raise CodeExpired()
    matches = hmac.compare_digest(challenge.code_hash, code_hash(challenge.id, otp))
    if challenge.decoy or not matches:
        challenge.attempts += 1
        left = MAX_WRONG_CODES - challenge.attempts
        if left <= 0:
            challenge.status = "failed"
        raise InvalidCode(details={"attempts_left": max(left, 0)})
    if before_spending is not None:
        before_spending()
    challenge.status = "completed"


def verify(session, challenge_id, purpose, otp, new_password):
    """Check the code and set the new password. Returns (account, entry, challenge, previous channel).

    The password policy is applied once the code is right, and a refused password spends
    nothing: before that, a member's challenge and a blind one answer alike.
    """
    challenge = session.get(Challenge, challenge_id, with_for_update=True)  # a code is spent on one replica only
    if challenge is None or challenge.purpose != purpose:
        raise InvalidCode()
    entry = session.get(DirectoryEntry, challenge.member_id)

    def acceptable():
        reasons = policy.problems(new_password, entry.citizen_id, entry.phone, entry.date_of_birth)
        if reasons:
            raise WeakPassword(details=policy.describe(reasons))

    check_code(challenge, otp, before_spending=acceptable)
    account = session.scalar(select(Account).where(Account.citizen_id == challenge.citizen_id))
    if account is None:
        account = Account(citizen_id=challenge.citizen_id)
        session.add(account)
    elif account.frozen_at is not None:
        raise InvalidCode()
    previous = channel(entry, account)
    account.password_hash = passwords.hash_password(new_password)
    account.verified_phone = challenge.phone
    if purpose == ACTIVATION:
        account.activated_at = utcnow()
        account.activation_method = "sms"
    session.flush()
    return account, entry, challenge, previous
