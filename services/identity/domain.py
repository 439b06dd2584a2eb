"""Identity's domain: sign-in, codes, tokens and sessions. Plain Python, no nameko."""

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import String, bindparam, delete, func, insert, select, update

from shared.auth import audience, issuer
from shared.contracts.common import left_party
from shared.contracts.identity import AccountFrozen, InvalidCredentials, WeakPassword
from shared.db import DriverStatement, aware, utcnow
from shared.errors import InvalidToken, NotFound, ServiceUnavailable, SotayError
from services.identity import activation, passwords, phones, policy, throttle
from services.identity.models import Account, DirectoryEntry, EndedSession, LoginThrottle, RefreshToken
from services.identity.trail import audit

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)


# A sign-in's statements, compiled once and run on the driver's cursor (shared.db.DriverStatement): SQLAlchemy's
# execution spent more CPU on each than SQLite did, and identity's core is the argon2 verify's (bench/signin.py)
_accounts, _members, _throttles = Account.__table__, DirectoryEntry.__table__, LoginThrottle.__table__
_PASSWORD_HASH = DriverStatement(
    select(_accounts.c.password_hash).where(_accounts.c.citizen_id == bindparam("citizen_id"))
)
_asked = select(bindparam("citizen_id", type_=String(12)).label("citizen_id")).subquery("asked")
# everything a sign-in decides on, whichever of the account, the member and the throttle row exist: one query
_SIGN_IN_STATE = DriverStatement(
    select(
        _asked.c.citizen_id,
        _accounts.c.id,
        _accounts.c.password_hash,
        _accounts.c.frozen_at,
        _members.c.member_id,
        _members.c.status,
        _throttles.c.citizen_id.label("throttled"),
        _throttles.c.locked_until,
    ).select_from(
        _asked.outerjoin(_accounts, _accounts.c.citizen_id == _asked.c.citizen_id)
        .outerjoin(_members, _members.c.citizen_id == _asked.c.citizen_id)
        .outerjoin(_throttles, _throttles.c.citizen_id == _asked.c.citizen_id)
    )
)
_NEW_REFRESH_TOKEN = DriverStatement(
    insert(RefreshToken.__table__),
    keys=("id", "family_id", "account_id", "token_hash", "created_at", "expires_at", "client_address", "user_agent"),
)


def _hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_tokens(session, keystore, account, entry, family_id=None, client=None):
    """A new access token and a new refresh token (in `family_id`, or a new family = a new session)."""
    if left_party(entry.status):  # the last guard: every path checks (and audits) before
        raise InvalidCredentials()
    now = utcnow()
    client = client or {}
    family_id = family_id or str(uuid.uuid4())
    access = keystore.sign(
        {
            "iss": issuer(),
            "aud": audience(),
            "sub": str(entry.member_id),
            "cid": account.citizen_id,
            "sid": family_id,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + ACCESS_TOKEN_TTL,
        }
    )
    refresh = secrets.token_urlsafe(32)
    _NEW_REFRESH_TOKEN.run(
        session,
        {
            "id": str(uuid.uuid4()),
            "family_id": family_id,
            "account_id": account.id,
            "token_hash": _hash_token(refresh),
            "created_at": now,
            "expires_at": now + REFRESH_TOKEN_TTL,
            "client_address": client.get("address"),
            "user_agent": (client.get("user_agent") or "")[:255],
        },
    )
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TOKEN_TTL.total_seconds()),
    }


def stored_hash(engine, citizen_id):
    """The account's argon2 hash; None without an account or before its activation. Read on a pooled connection
    given back at once: none is held while the hash is verified."""
    return _PASSWORD_HASH.scalar_apart(engine, {"citizen_id": citizen_id})


def login(uow, keystore, citizen_id, password, client=None):
    """Tokens for a right password, in steps: the stored hash read, then the slow verify with no database
    connection held (tens of milliseconds, and a burst of sign-ins waits its turn for a hashing thread: none may
    hold the pool's connections, a PostgreSQL transaction or SQLite's writer meanwhile), then one transaction in
    which a refused attempt is recorded too (audit, throttle, and `identity.login_locked` when it starts a lock)
    before the error. A right password with nothing else to do (the common case) is recorded without an ORM
    session (`_plainly_signed_in`); anything else goes the whole way."""
    stored = stored_hash(uow.provider.engine, citizen_id)
    matches = passwords.verify(stored, password)  # always one verify: an unknown citizen ID takes as long
    if matches:
        with uow.driver_transaction() as transaction:
            tokens = _plainly_signed_in(transaction, keystore, citizen_id, client)
        if tokens is not None:
            return tokens
    with uow.transaction(commit_on=SotayError):
        return _login(uow, keystore, citizen_id, password, client, matches)


def _plainly_signed_in(transaction, keystore, citizen_id, client):
    """Tokens, audited, when the password matched and nothing but a success is to be recorded: a known member
    still in the party, no failures counted (so no lock), not frozen, the hash of today's parameters. Otherwise
    None, nothing written: `_login` decides and records it (its outcomes are the same checks, in its order).
    Its statements only, on a DriverTransaction: the ORM session's opening and commit cost more than they."""
    state = _SIGN_IN_STATE.one(transaction, {"citizen_id": citizen_id})
    if (
        state.member_id is None
        or left_party(state.status)
        or state.throttled is not None
        or state.frozen_at is not None
        or passwords.needs_rehash(state.password_hash)
    ):
        return None
    audit(transaction, "login", "success", citizen_id=citizen_id, member_id=state.member_id, client=client)
    return issue_tokens(transaction, keystore, state, state, client=client)


def _login(uow, keystore, citizen_id, password, client, matches):
    session = uow.session
    # the row has what issue_tokens reads of the account (id, citizen_id) and of the member (member_id, status)
    state = _SIGN_IN_STATE.one(session, {"citizen_id": citizen_id})
    throttle.refuse_while_locked(state.locked_until)
    known = state.member_id is not None
    # a member who left the party, and a never-activated account, are answered (and counted) exactly as a
    # wrong password: nobody learns who is a member
    left = matches and known and left_party(state.status)
    if not matches or left:
        member_id = state.member_id
        locked_until = throttle.record_failure(session, citizen_id)
        outcome = "locked" if locked_until else "left_party" if left else "invalid_credentials"
        audit(session, "login", outcome, citizen_id=citizen_id, member_id=member_id, client=client)
        if locked_until and member_id is not None:
            uow.publish("identity.login_locked", {"member_id": member_id, "locked_until": locked_until.isoformat()})
        raise InvalidCredentials()
    if not known:
        # the account exists but members' record has not reached identity yet
        audit(session, "login", "member_unknown", citizen_id=citizen_id, client=client)
        raise ServiceUnavailable()
    if state.throttled is not None:
        throttle.record_success(session, citizen_id)
    if state.frozen_at is not None:
        audit(session, "login", "frozen", citizen_id=citizen_id, member_id=state.member_id, client=client)
        raise AccountFrozen()
    if passwords.needs_rehash(state.password_hash):
        session.execute(
            update(Account).where(Account.id == state.id).values(password_hash=passwords.hash_password(password))
        )
    audit(session, "login", "success", citizen_id=citizen_id, member_id=state.member_id, client=client)
    return issue_tokens(session, keystore, state, state, client=client)


def start_code(uow, purpose, citizen_id, phone, client=None):
    """A first sign-in or a reset asked for: (the answer, the SMS to hand over once this commits or None).
    Every request is audited with what it reached, which only the trail knows (activation.py)."""
    session = uow.session
    answer, sms = activation.request_code(session, purpose, citizen_id, phone, (client or {}).get("address"))
    audit(session, purpose, activation.audit_outcome(answer, session), citizen_id=citizen_id, client=client)
    return answer, sms


def complete_code(uow, keystore, purpose, challenge_id, otp, new_password, client=None):
    """The code and a new password: the account is activated (or its password reset, every session ended),
    audited, and signed in. Returns (tokens, the security notice a reset sends or None). A wrong code counts:
    commit on errors."""
    session = uow.session
    account, entry, challenge, previous = activation.verify(session, challenge_id, purpose, otp, new_password)
    notice = None
    if purpose == activation.ACTIVATION:
        uow.publish("identity.account_activated", {"member_id": entry.member_id, "method": "sms"})
    else:
        revoke_all(uow, account.id)
        uow.publish("identity.password_changed", {"member_id": entry.member_id})
        notice = phones.notice(session, entry, account, "password_reset", previous_phone=previous or "")
    audit(session, purpose, "completed", citizen_id=entry.citizen_id, member_id=entry.member_id, client=client)
    return issue_tokens(session, keystore, account, entry, client=client), notice


def refresh(uow, keystore, token, client=None):
    """Rotate a refresh token; a spent one presented again revokes its whole family."""
    session = uow.session
    now = utcnow()
    # locked: of two replicas rotating one token at once, the second sees it spent (reuse) and revokes the family
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash_token(token)).with_for_update())
    if row is None:
        raise InvalidToken()
    if row.spent_at is not None or row.revoked_at is not None:
        if row.spent_at is not None and row.revoked_at is None:
            revoke_family(uow, row.family_id)
            audit(
                session, "refresh", "reuse_detected_family_revoked", client=client, detail={"family_id": row.family_id}
            )
        raise InvalidToken()
    if aware(row.expires_at) <= now:
        raise InvalidToken(details={"reason": "expired"})
    account = session.get(Account, row.account_id)
    if account.frozen_at is not None:
        raise InvalidToken()
    entry = session.scalar(select(DirectoryEntry).where(DirectoryEntry.citizen_id == account.citizen_id))
    if entry is not None and left_party(entry.status):
        revoke_family(uow, row.family_id)
        audit(
            session,
            "refresh",
            "left_party",
            citizen_id=account.citizen_id,
            member_id=entry.member_id,
            client=client,
            detail={"family_id": row.family_id},
        )
        raise InvalidToken()
    row.spent_at = now
    return issue_tokens(session, keystore, account, entry, family_id=row.family_id, client=client)


def end_sessions(uow, account_id, family_ids):
    """Record sessions that ended and tell every service (`identity.sessions_ended`, through the outbox):
    their access tokens are refused until the last one issued expires."""
    if not family_ids:
        return
    session = uow.session
    now = utcnow()
    until = now + ACCESS_TOKEN_TTL
    session.execute(delete(EndedSession).where(EndedSession.until < now))  # nothing left to refuse
    member_id = session.scalar(
        select(DirectoryEntry.member_id)
        .join(Account, Account.citizen_id == DirectoryEntry.citizen_id)
        .where(Account.id == account_id)
    )
    for family_id in family_ids:
        session.merge(EndedSession(session_id=family_id, member_id=member_id, ended_at=now, until=until))
    uow.publish("identity.sessions_ended", {"session_ids": sorted(family_ids), "until": until.isoformat()})


def revoke_family(uow, family_id):
    """End one session: its refresh tokens stop working, its access tokens are refused."""
    session = uow.session
    account_id = session.scalar(select(RefreshToken.account_id).where(RefreshToken.family_id == family_id).limit(1))
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if account_id is not None:
        end_sessions(uow, account_id, [family_id])


def revoke_all(uow, account_id, keep_family=None):
    """End every session of an account (but `keep_family`); returns how many refresh tokens it revoked."""
    session = uow.session
    now = utcnow()
    alive = (RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
    if keep_family:
        alive += (RefreshToken.family_id != keep_family,)
    # a family whose last token was issued longer ago than an access token lives has none alive
    recent = set(
        session.scalars(
            select(RefreshToken.family_id).distinct().where(*alive, RefreshToken.created_at > now - ACCESS_TOKEN_TTL)
        )
    )
    ended = session.execute(update(RefreshToken).where(*alive).values(revoked_at=now)).rowcount
    end_sessions(uow, account_id, recent)
    return ended


def logout(uow, principal, client=None):
    revoke_family(uow, principal.session_id)
    audit(
        uow.session,
        "logout",
        "session_revoked",
        citizen_id=principal.citizen_id,
        member_id=principal.member_id,
        client=client,
        detail={"family_id": principal.session_id},
    )


def session_ended(session, session_id):
    """Whether `session_id` ended while an access token of it may still be alive."""
    return (
        session.scalar(
            select(func.count())
            .select_from(EndedSession)
            .where(EndedSession.session_id == session_id, EndedSession.until > utcnow())
        )
        > 0
    )


def ended_sessions(session):
    """The ended sessions whose access tokens may still be alive (what other services restore)."""
    rows = session.execute(
        select(EndedSession.session_id, EndedSession.until).where(EndedSession.until > utcnow())
    ).all()
    return {
        "items": [{"session_id": session_id, "until": aware(until).isoformat()} for session_id, until in rows],
        "as_of": utcnow().isoformat(),
    }


def _account_of(session, principal):
    account = session.scalar(select(Account).where(Account.citizen_id == principal.citizen_id))
    if account is None:
        raise InvalidToken()
    return account


def list_sessions(session, principal):
    """The caller's sign-in sessions (refresh families) still alive, newest activity first."""
    account = _account_of(session, principal)
    now = utcnow()
    rows = session.execute(
        select(
            RefreshToken.family_id,
            func.min(RefreshToken.created_at),
            func.max(RefreshToken.created_at),
            func.max(RefreshToken.expires_at),
        )
        .where(RefreshToken.account_id == account.id, RefreshToken.revoked_at.is_(None))
        .group_by(RefreshToken.family_id)
    ).all()
    items = []
    for family_id, started, last_used, expires in rows:
        if aware(expires) <= now:
            continue
        latest = session.scalar(
            select(RefreshToken)
            .where(RefreshToken.family_id == family_id)
            .order_by(RefreshToken.created_at.desc())
            .limit(1)
        )
        items.append(
            {
                "id": family_id,
                "started_at": aware(started).isoformat(),
                "last_used_at": aware(last_used).isoformat(),
                "client_address": latest.client_address,
                "user_agent": latest.user_agent,
                "current": family_id == principal.session_id,
            }
        )
    items.sort(key=lambda item: item["last_used_at"], reverse=True)
    return {"items": items, "next_cursor": None}


def revoke_session(uow, principal, family_id, client=None):
    session = uow.session
    account = _account_of(session, principal)
    owned = session.scalar(
        select(func.count())
        .select_from(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.account_id == account.id)
    )
    if not owned:
        raise NotFound()
    revoke_family(uow, family_id)
    audit(
        session,
        "session",
        "revoked",
        citizen_id=principal.citizen_id,
        member_id=principal.member_id,
        client=client,
        detail={"family_id": family_id},
    )


def change_password(uow, principal, current_password, new_password, client=None):
    """Check the current password, apply the policy, set the new one, end the other sessions."""
    session = uow.session
    throttle.check(session, principal.citizen_id)
    account = _account_of(session, principal)
    if not passwords.verify(account.password_hash, current_password):
        throttle.record_failure(session, principal.citizen_id)
        audit(
            session,
            "password_change",
            "invalid_credentials",
            citizen_id=principal.citizen_id,
            member_id=principal.member_id,
            client=client,
        )
        raise InvalidCredentials(message="Mật khẩu hiện tại không đúng. / The current password is incorrect.")
    entry = session.get(DirectoryEntry, principal.member_id)
    reasons = policy.problems(
        new_password, account.citizen_id, entry.phone if entry else None, entry.date_of_birth if entry else None
    )
    if reasons:
        raise WeakPassword(details=policy.describe(reasons))
    if passwords.verify(account.password_hash, new_password):
        raise WeakPassword(
            details={
                "new_password": [
                    "Mật khẩu mới phải khác mật khẩu hiện tại. / The new password must differ from the current one."
                ]
            }
        )
    account.password_hash = passwords.hash_password(new_password)
    revoke_all(uow, account.id, keep_family=principal.session_id)
    audit(
        session,
        "password_change",
        "success",
        citizen_id=principal.citizen_id,
        member_id=principal.member_id,
        client=client,
    )
    uow.publish("identity.password_changed", {"member_id": principal.member_id})
    return account


def end_sessions_of_leaver(uow, member_id):
    """A member whose projected record says they left the party: every session of theirs ends."""
    session = uow.session
    entry = session.get(DirectoryEntry, member_id)
    if entry is None or not left_party(entry.status):
        return
    account = session.scalar(select(Account).where(Account.citizen_id == entry.citizen_id))
    if account is not None and revoke_all(uow, account.id):
        audit(
            session,
            "sessions",
            "ended_left_party",
            citizen_id=entry.citizen_id,
            member_id=entry.member_id,
            detail={"status": entry.status},
        )


def set_password(session, citizen_id, password):
    """Create or update an account with an activated password (demo seed)."""
    account = session.scalar(select(Account).where(Account.citizen_id == citizen_id))
    if account is None:
        account = Account(citizen_id=citizen_id)
        session.add(account)
    account.password_hash = passwords.hash_password(password)
    account.activated_at = account.activated_at or utcnow()
    account.activation_method = account.activation_method or "sms"
    return account
