"""Identity's own tables: accounts, its projection of members, refresh tokens, audit trail."""
from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase

from shared.db import utcnow
from shared.messaging_tables import outbox_table, processed_event_table


class Base(DeclarativeBase):
    metadata = MetaData()


outbox = outbox_table(Base.metadata)
processed_events = processed_event_table(Base.metadata)


class Account(Base):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)
    citizen_id = Column(String(12), nullable=False, unique=True)
    password_hash = Column(String(255))          # None until the account is activated
    activated_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class DirectoryEntry(Base):
    """Identity's projection of members (fed by members.member_* events; never members' tables)."""
    __tablename__ = "member_directory"
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    citizen_id = Column(String(12), nullable=False, unique=True)
    full_name = Column(String(255), nullable=False)
    date_of_birth = Column(Date)
    phone = Column(String(16))
    status = Column(String(20), nullable=False)
    organization_id = Column(Integer, nullable=False)
    organization_path = Column(String(255), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class RefreshToken(Base):
    """One rotating refresh token; a family is one sign-in session (`sid` in access tokens)."""
    __tablename__ = "refresh_tokens"
    id = Column(String(36), primary_key=True)
    family_id = Column(String(36), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
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
