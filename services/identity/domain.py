"""Identity's domain: sign-in, tokens, the members projection. Plain Python, no nameko."""
import hashlib
import secrets
import uuid
from datetime import date, timedelta, timezone

from sqlalchemy import select, update

from shared.auth import audience, issuer
from shared.db import utcnow
from shared.errors import ActivationRequired, InvalidCredentials, InvalidToken, ServiceUnavailable
from services.identity import passwords
from services.identity.models import Account, AuditEvent, DirectoryEntry, RefreshToken

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)


def audit(session, action, outcome, *, citizen_id=None, member_id=None, client=None, detail=None):
    client = client or {}
    session.add(AuditEvent(action=action, outcome=outcome, citizen_id=citizen_id, member_id=member_id,
                           client_address=client.get("address"), correlation_id=client.get("correlation_id"),
                           detail=detail))


def _hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_tokens(session, keystore, account, entry, family_id=None):
    """A new access token and a new refresh token (in `family_id`, or a new family)."""
    now = utcnow()
    family_id = family_id or str(uuid.uuid4())
    access = keystore.sign({
        "iss": issuer(), "aud": audience(), "sub": str(entry.member_id), "cid": account.citizen_id,
        "sid": family_id, "jti": str(uuid.uuid4()), "iat": now, "exp": now + ACCESS_TOKEN_TTL,
    })
    refresh = secrets.token_urlsafe(32)
    session.add(RefreshToken(id=str(uuid.uuid4()), family_id=family_id, account_id=account.id,
                             token_hash=_hash_token(refresh), created_at=now,
                             expires_at=now + REFRESH_TOKEN_TTL))
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": int(ACCESS_TOKEN_TTL.total_seconds())}


def login(session, keystore, citizen_id, password, client=None):
    entry = session.scalar(select(DirectoryEntry).where(DirectoryEntry.citizen_id == citizen_id))
    account = session.scalar(select(Account).where(Account.citizen_id == citizen_id))
    hash_ = account.password_hash if account else None
    if not passwords.verify(hash_, password):   # always one argon2 verify: same time either way
        if entry is not None and (account is None or account.password_hash is None):
            audit(session, "login", "activation_required", citizen_id=citizen_id, member_id=entry.member_id,
                  client=client)
            raise ActivationRequired()
        audit(session, "login", "invalid_credentials", citizen_id=citizen_id, client=client)
        raise InvalidCredentials()
    if entry is None:
        # the account exists but members' record has not reached identity yet
        audit(session, "login", "member_unknown", citizen_id=citizen_id, client=client)
        raise ServiceUnavailable()
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    audit(session, "login", "success", citizen_id=citizen_id, member_id=entry.member_id, client=client)
    return issue_tokens(session, keystore, account, entry)


def refresh(session, keystore, token, client=None):
    """Rotate a refresh token; a spent one presented again revokes its whole family."""
    now = utcnow()
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash_token(token)))
    if row is None:
        raise InvalidToken()
    if row.spent_at is not None or row.revoked_at is not None:
        if row.spent_at is not None and row.revoked_at is None:
            revoke_family(session, row.family_id)
            audit(session, "refresh", "reuse_detected_family_revoked", client=client,
                  detail={"family_id": row.family_id})
        raise InvalidToken()
    if _aware(row.expires_at) <= now:
        raise InvalidToken(details={"reason": "expired"})
    row.spent_at = now
    account = session.get(Account, row.account_id)
    entry = session.scalar(select(DirectoryEntry).where(DirectoryEntry.citizen_id == account.citizen_id))
    return issue_tokens(session, keystore, account, entry, family_id=row.family_id)


def revoke_family(session, family_id):
    session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id,
                                               RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def logout(session, principal, client=None):
    revoke_family(session, principal.session_id)
    audit(session, "logout", "session_revoked", citizen_id=principal.citizen_id,
          member_id=principal.member_id, client=client, detail={"family_id": principal.session_id})


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def project_member(session, snapshot):
    """Upsert identity's directory entry from a members.member_created/updated payload."""
    entry = session.get(DirectoryEntry, snapshot["member_id"])
    if entry is None:
        entry = DirectoryEntry(member_id=snapshot["member_id"])
        session.add(entry)
    entry.citizen_id = snapshot["citizen_id"]
    entry.full_name = snapshot["full_name"]
    entry.date_of_birth = date.fromisoformat(snapshot["date_of_birth"]) if snapshot.get("date_of_birth") else None
    entry.phone = snapshot.get("phone")
    entry.status = snapshot["status"]
    entry.organization_id = snapshot["organization_id"]
    entry.organization_path = snapshot["organization_path"]
    return entry


def set_password(session, citizen_id, password):
    """Create or update an account with an activated password (demo seed, activation)."""
    account = session.scalar(select(Account).where(Account.citizen_id == citizen_id))
    if account is None:
        account = Account(citizen_id=citizen_id)
        session.add(account)
    account.password_hash = passwords.hash_password(password)
    account.activated_at = account.activated_at or utcnow()
    return account
