"""Members' own tables: the organisation tree, members, positions, audit trail."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, relationship

from shared.db import utcnow
from shared.messaging_tables import outbox_table, processed_event_table

SEARCH_KEY = String(255).with_variant(String(255, collation="C"), "postgresql")


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
    # lower case, no diacritics; byte order ("C") on PostgreSQL so a prefix is one index range
    search_name = Column(SEARCH_KEY, nullable=False)
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
    left_on = Column(Date)  # the leaving states: transferred out, removed, expelled…
    leaving_reason = Column(Text)
    activated = Column(Boolean, nullable=False, default=False)  # from identity.account_activated (uptake)
    erased_at = Column(DateTime(timezone=True))  # personal data erased on request: a pseudonymous tombstone
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
    positions = relationship("Position", lazy="selectin", back_populates="member")
    __table_args__ = (
        Index("ix_members_org_path_id", "organization_path", "id"),
        Index("ix_members_org_name", "organization_id", "search_name", "id"),
        Index("ix_members_name_path", "search_name", "organization_path", "id"),
    )


class Position(Base):
    __tablename__ = "positions"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("members.id"), nullable=False, index=True)
    organization_id = Column(Integer, ForeignKey("organizations.id"), nullable=False)
    role = Column(String(32), nullable=False)
    member = relationship("Member", back_populates="positions")
    organization = relationship("Organization")  # loaded when an officer's scope is checked
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


class SubtreeCount(Base):
    """How many members an organisation has in its whole subtree, one dimension at a time
    (status, gender, birth_year, activated): a committee's dashboard reads a few dozen rows,
    whatever the size of its subtree. Kept current by every write, rebuilt after an import."""

    __tablename__ = "subtree_counts"
    organization_id = Column(Integer, primary_key=True, autoincrement=False)
    dimension = Column(String(16), primary_key=True)
    value = Column(String(32), primary_key=True)
    count = Column(Integer, nullable=False, default=0)


class MemberRecord(Base):
    """A member's digital file: work history, rewards, discipline."""

    __tablename__ = "member_records"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("members.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)  # work_history | reward | discipline
    title = Column(String(255), nullable=False)
    detail = Column(Text)
    start_date = Column(Date)
    end_date = Column(Date)
    created_by = Column(Integer)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ChangeRequest(Base):
    """A member's own change to core data, waiting for the secretary of the member's current organisation."""

    __tablename__ = "change_requests"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("members.id"), nullable=False, index=True)
    # where the member was when they asked (history only: who decides follows the member)
    organization_path = Column(String(255), nullable=False, index=True)
    changes = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False, default="pending")  # pending | approved | rejected
    reason = Column(Text)
    requested_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    decided_by = Column(Integer)
    decided_at = Column(DateTime(timezone=True))


class Transfer(Base):
    """Chuyển sinh hoạt đảng: issued by the sending organisation, accepted by the receiving one."""

    __tablename__ = "transfers"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("members.id"), nullable=False, index=True)
    kind = Column(String(16), nullable=False)  # official | temporary
    from_organization_id = Column(Integer, ForeignKey("organizations.id"), nullable=False)
    to_organization_id = Column(Integer, ForeignKey("organizations.id"), nullable=False, index=True)
    status = Column(String(16), nullable=False, default="issued")  # issued | accepted
    note = Column(Text)
    issued_by = Column(Integer)
    issued_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    accepted_by = Column(Integer)
    accepted_at = Column(DateTime(timezone=True))


class ImportJob(Base):
    __tablename__ = "import_jobs"
    id = Column(String(36), primary_key=True)
    status = Column(String(16), nullable=False)  # running | applying | completed | failed
    dry_run = Column(Boolean, nullable=False, default=False)
    file_sha256 = Column(String(64), nullable=False)
    total_rows = Column(Integer, nullable=False, default=0)
    processed_rows = Column(Integer, nullable=False, default=0)
    accepted = Column(Integer, nullable=False, default=0)
    rejected = Column(Integer, nullable=False, default=0)
    warnings = Column(JSON, nullable=False, default=list)
    errors = Column(JSON, nullable=False, default=list)
    failure = Column(Text)
    started_by = Column(Integer)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = Column(DateTime(timezone=True))
    # the process running the job renews this lease; once it lapses, any members process marks the job failed
    lease_owner = Column(String(64))
    lease_expires_at = Column(DateTime(timezone=True))
    upload = Column(String(64))  # the file in IMPORT_DIR while the job runs: whoever ends the job deletes it
    __table_args__ = (Index("ix_import_jobs_status_lease", "status", "lease_expires_at"),)


class ImportRow(Base):
    """A validated row of an import, staged until the whole file is checked; then all are
    applied to members in one transaction (nothing half-imported)."""

    __tablename__ = "import_rows"
    job_id = Column(String(36), primary_key=True)
    row_number = Column(Integer, primary_key=True, autoincrement=False)
    citizen_id = Column(String(12), nullable=False)
    full_name = Column(String(255), nullable=False)
    search_name = Column(SEARCH_KEY, nullable=False)
    date_of_birth = Column(Date)
    gender = Column(String(8))
    phone = Column(String(16))
    email = Column(String(255))
    party_card_number = Column(String(32))
    admission_date = Column(Date)
    official_date = Column(Date)
    organization_id = Column(Integer, nullable=False)
    organization_path = Column(String(255), nullable=False)
    status = Column(String(20), nullable=False)


class Registration(Base):
    """An officer's POST /members whose citizen ID or party card is already a member's outside the
    officer's subtree: it waits for a system administrator, and the officer is not told whose it is."""

    __tablename__ = "member_registrations"
    id = Column(Integer, primary_key=True)
    citizen_id = Column(String(12), nullable=False)
    data = Column(JSON, nullable=False)  # the request as sent (dates as ISO strings)
    organization_id = Column(Integer, ForeignKey("organizations.id"), nullable=False)
    member_id = Column(Integer, ForeignKey("members.id"), nullable=False)  # the member it clashes with
    field = Column(String(32), nullable=False)  # citizen_id | party_card_number
    status = Column(String(16), nullable=False, default="pending_review")  # pending_review | closed
    requested_by = Column(Integer, nullable=False)
    requested_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    closed_by = Column(Integer)
    closed_at = Column(DateTime(timezone=True))
    reason = Column(Text)
    __table_args__ = (
        Index("ix_member_registrations_requester", "requested_by", "requested_at"),
        Index("ix_member_registrations_status", "status", "id"),
    )
