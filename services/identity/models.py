"""Identity's own tables: accounts, its projection of members, refresh tokens, audit trail."""

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase

from shared.db import utcnow
from shared.directory import Directory
from shared.messaging_tables import outbox_table, processed_event_table


class Base(DeclarativeBase):
    metadata = MetaData()


outbox = outbox_table(Base.metadata)
processed_events = processed_event_table(Base.metadata)
# identity's projection of members: who is a member (by citizen ID), their phones, who may decide for whom
directory = Directory(
    Base,
    keep=("citizen_id", "full_name", "date_of_birth", "phone", "email"),
    # the phone as imported from the party member database: trusted (phones.py); `phone` is
    # members' record, not trusted by itself
    imported_phone=Column(String(16)),
)
DirectoryEntry = directory.Membership


class Account(Base):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    citizen_id = Column(String(12), nullable=False, unique=True)
    password_hash = Column(String(255))  # None until activated (or for VNeID-only accounts)
    activated_at = Column(DateTime(timezone=True))
    activation_method = Column(String(16))  # "sms" or "vneid"
    verified_phone = Column(String(16))  # the phone a code reached: where reset codes go
    frozen_at = Column(DateTime(timezone=True))  # "not me": no sign-in, no reset until an officer releases it
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class RefreshToken(Base):
    """One rotating refresh token; a family is one sign-in session (`sid` in access tokens)."""

    __tablename__ = "refresh_tokens"
    id = Column(String(36), primary_key=True)
    family_id = Column(String(36), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    client_address = Column(String(64))
    user_agent = Column(String(255))
    expires_at = Column(DateTime(timezone=True), nullable=False)
    spent_at = Column(DateTime(timezone=True))
    revoked_at = Column(DateTime(timezone=True))


class AuditEvent(Base):
    """Append-only (database triggers refuse UPDATE and DELETE): sign-ins, activations, revocations."""

    __tablename__ = "audit_events"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    action = Column(String(48), nullable=False)
    outcome = Column(String(32), nullable=False)
    citizen_id = Column(String(12))
    member_id = Column(Integer)
    client_address = Column(String(64))
    correlation_id = Column(String(64))
    detail = Column(JSON)


class Challenge(Base):
    """A one-time code for activation or password reset, or a request waiting for an officer.

    The id is what the member holds (`activation_id`); the code is stored as an
    HMAC, never in clear. status: pending_approval → code_sent → completed, or
    denied / failed (too many wrong codes) / superseded (a newer code was sent).
    """

    __tablename__ = "challenges"
    id = Column(String(36), primary_key=True)
    purpose = Column(String(16), nullable=False)  # activation | password_reset
    citizen_id = Column(String(12), nullable=False, index=True)
    member_id = Column(Integer, nullable=False)
    phone = Column(String(16), nullable=False)  # where the code goes
    phone_on_record = Column(Integer, nullable=False, default=1)
    status = Column(String(20), nullable=False)
    code_hash = Column(String(64))
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    sent_at = Column(DateTime(timezone=True), index=True)
    expires_at = Column(DateTime(timezone=True))
    decided_by = Column(Integer)
    decided_at = Column(DateTime(timezone=True))
    member_path = Column(String(255), nullable=False)
    client_address = Column(String(64), index=True)
    decoy = Column(Integer, nullable=False, default=0)  # an unknown citizen ID's: stored alike, nothing sent


class LoginThrottle(Base):
    """Failed sign-ins per citizen ID, whether or not an account exists (no telling which)."""

    __tablename__ = "login_throttle"
    citizen_id = Column(String(12), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True))
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class OidcState(Base):
    """A VNeID sign-in in flight: state → nonce and PKCE verifier, bound to one browser."""

    __tablename__ = "oidc_states"
    state = Column(String(64), primary_key=True)
    nonce = Column(String(64), nullable=False)
    code_verifier = Column(String(128), nullable=False)
    browser_hash = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)
    used_at = Column(DateTime(timezone=True))


class VneidLink(Base):
    """Which VNeID identity (issuer + subject) is which citizen."""

    __tablename__ = "vneid_links"
    issuer = Column(String(255), primary_key=True)
    subject = Column(String(255), primary_key=True)
    citizen_id = Column(String(12), nullable=False, index=True)
    linked_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class EndedSession(Base):
    """A sign-in session (refresh family, `sid`) that ended before its access tokens expire: they are
    refused until `until` (identity checks here; other services keep a copy, shared/revocation.py)."""

    __tablename__ = "ended_sessions"
    session_id = Column(String(36), primary_key=True)
    member_id = Column(Integer)
    ended_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    until = Column(DateTime(timezone=True), nullable=False, index=True)


class FreezeCode(Base):
    """A "not me" code sent with a security notice: whoever holds it may freeze the account.

    Stored as an HMAC; `restore_phone` is the channel the notice went to, which freezing keeps.
    """

    __tablename__ = "freeze_codes"
    code_hash = Column(String(64), primary_key=True)
    member_id = Column(Integer, nullable=False)
    citizen_id = Column(String(12), nullable=False)
    restore_phone = Column(String(16))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False, index=True)
    used_at = Column(DateTime(timezone=True))
