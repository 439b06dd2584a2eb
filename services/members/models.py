"""Members' own tables: the organisation tree, members, positions, audit trail."""
from sqlalchemy import (JSON, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, relationship

from shared.db import utcnow
from shared.messaging_tables import outbox_table, processed_event_table

LEVELS = ("central", "provincial", "grassroots", "branch", "party_group")
ROLES = ("secretary", "deputy_secretary", "committee_member", "system_administrator")


class Base(DeclarativeBase):
    metadata = MetaData()


outbox = outbox_table(Base.metadata)
processed_events = processed_event_table(Base.metadata)


class Organization(Base):
    __tablename__ = "organizations"
    id = Column(Integer, primary_key=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(255), nullable=False)
    level = Column(String(16), nullable=False)
    parent_id = Column(Integer, ForeignKey("organizations.id"), index=True)
    # materialised path "/1/7/42/": a subtree is the index range [path, path[:-1] + "0")
    path = Column(String(255), nullable=False, unique=True)
    rollout = Column(String(16), nullable=False, default="disabled")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Member(Base):
    __tablename__ = "members"
    id = Column(Integer, primary_key=True)
    citizen_id = Column(String(12), nullable=False, unique=True)
    full_name = Column(String(255), nullable=False)
    search_name = Column(String(255), nullable=False)  # lower case, no diacritics
    date_of_birth = Column(Date)
    gender = Column(String(8))
    status = Column(String(20), nullable=False)
    organization_id = Column(Integer, ForeignKey("organizations.id"), nullable=False)
    organization_path = Column(String(255), nullable=False)
    phone = Column(String(16))
    email = Column(String(255))
    party_card_number = Column(String(32), unique=True)
    admission_date = Column(Date)
    official_date = Column(Date)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
    positions = relationship("Position", lazy="selectin", back_populates="member")
    __table_args__ = (
        Index("ix_members_org_path_id", "organization_path", "id"),
        Index("ix_members_org_name", "organization_id", "search_name", "id"),
    )


class Position(Base):
    __tablename__ = "positions"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("members.id"), nullable=False, index=True)
    organization_id = Column(Integer, ForeignKey("organizations.id"), nullable=False)
    role = Column(String(32), nullable=False)
    member = relationship("Member", back_populates="positions")
    organization = relationship("Organization", lazy="joined")
    __table_args__ = (UniqueConstraint("member_id", "organization_id", "role"),)


class AuditEntry(Base):
    """Append-only record of writes to personal data (who, what, before/after, when)."""
    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor_member_id = Column(Integer)
    action = Column(String(64), nullable=False)
    subject_type = Column(String(32), nullable=False)
    subject_id = Column(Integer)
    before = Column(JSON)
    after = Column(JSON)
    correlation_id = Column(String(64))
    client_address = Column(String(64))
    note = Column(Text)
