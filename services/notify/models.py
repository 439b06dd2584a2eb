"""notify's own tables: its projection of members, inboxes, publications, the delivery log, preferences, devices."""

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, MetaData, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase

from shared.db import utcnow
from shared.directory import Directory
from shared.erasures import ErasureRecord
from shared.messaging_tables import outbox_table, processed_event_table


class Base(DeclarativeBase):
    metadata = MetaData()


outbox = outbox_table(Base.metadata)
processed_events = processed_event_table(Base.metadata)
# notify's projection of members (members' and identity's events): who to reach, and how; which committees are live
directory = Directory(
    Base, keep=("full_name", "phone", "email"), language=Column(String(2), nullable=False, default="vi")
)
Recipient = directory.Membership


class Notification(Base):
    """An item in a member's inbox; one per (event, member) however often the event arrives."""

    __tablename__ = "notifications"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, nullable=False)
    event_id = Column(String(36), nullable=False)
    category = Column(String(32), nullable=False)
    title = Column(String(255), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    read_at = Column(DateTime(timezone=True))
    meeting_id = Column(Integer)  # the meeting a message is about (meetings' events), for the app to open it
    __table_args__ = (
        UniqueConstraint("event_id", "member_id"),
        Index("ix_notifications_member", "member_id", "id"),
        Index("ix_notifications_member_time", "member_id", "created_at", "id"),  # the inbox's order
    )


class Publication(Base):
    """A document published to an audience (content's events): ONE row however large the audience. Whose inbox
    shows it is decided by organisation path when the inbox is read; a new version replaces the row's facts."""

    __tablename__ = "publications"
    id = Column(Integer, primary_key=True)
    document_id = Column(Integer, nullable=False, unique=True)
    version = Column(Integer, nullable=False)
    category = Column(String(16), nullable=False)  # content's category (news, resolution, …, study)
    study = Column(Boolean, nullable=False, default=False)
    title = Column(Text, nullable=False)
    summary = Column(Text)
    published_at = Column(DateTime(timezone=True), nullable=False)
    withdrawn_at = Column(DateTime(timezone=True))  # gone from every inbox


class PublicationAudience(Base):
    """An organisation a publication is for: every current member whose path starts with it sees it."""

    __tablename__ = "publication_audiences"
    publication_id = Column(Integer, primary_key=True, autoincrement=False)
    organization_path = Column(String(255), primary_key=True)
    # the publication's time, here too: an inbox reads each of its ≤ 5 paths newest first from one index
    published_at = Column(DateTime(timezone=True), nullable=False)
    __table_args__ = (Index("ix_publication_audiences_path", "organization_path", "published_at", "publication_id"),)


class PublicationRead(Base):
    """A member read a publication (a row only then)."""

    __tablename__ = "publication_reads"
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    publication_id = Column(Integer, primary_key=True, autoincrement=False)
    version = Column(Integer, nullable=False)  # the version read: a newer one is unread again
    read_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    __table_args__ = (Index("ix_publication_reads_publication", "publication_id"),)


class PushFanOut(Base):
    """A publication's push to its audience's devices, queued in batches by the fan-out worker; where it stands
    (the range and the last member done) commits with each batch, so a restart carries on where it stopped."""

    __tablename__ = "push_fan_outs"
    id = Column(Integer, primary_key=True)
    publication_id = Column(Integer, nullable=False, index=True)
    event_id = Column(String(36), nullable=False, unique=True)  # the deliveries' event id: one push per version
    kind = Column(String(24), nullable=False)  # its template (templates.py): new, study material, revised
    ranges = Column(Text, nullable=False)  # JSON [[low, high], …]: the audience's subtrees that are rolled out
    range_index = Column(Integer, nullable=False, default=0)
    after_path = Column(String(255))  # the last member done in the current range: (path, id)
    after_member = Column(Integer)  # (stopped: the last delivery id expired)
    queued = Column(Integer, nullable=False, default=0)
    status = Column(String(8), nullable=False, default="running")  # running | done | stopped (withdrawn)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    finished_at = Column(DateTime(timezone=True))


class Delivery(Base):
    """One message to one member on one channel: the unique key makes it at most once per event."""

    __tablename__ = "deliveries"
    id = Column(Integer, primary_key=True)
    event_id = Column(String(36), nullable=False)
    member_id = Column(Integer)
    channel = Column(String(24), nullable=False)  # sms | email | push:<device id> (one row a device)
    priority = Column(Integer, nullable=False, default=1)  # 0: one-time codes, never behind a bulk send
    destination = Column(Text, nullable=False)  # a phone, an address, or a device (a browser's is ~400 characters)
    subject = Column(String(255))
    text = Column(Text, nullable=False)
    # pending | sending | sent | failed | expired | erased (its member's data erased: never sent)
    status = Column(String(8), nullable=False, default="pending")
    # a one-time code: `text` encrypted (sealing.py)
    sealed = Column(Boolean, nullable=False, default=False, server_default=false())
    expires_at = Column(DateTime(timezone=True))  # a code: never sent after this
    lease_until = Column(DateTime(timezone=True))  # `sending`: taken again after this
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True))
    last_error = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = Column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("event_id", "member_id", "channel"),
        Index("ix_deliveries_due", "status", "priority", "id"),
    )


class Preference(Base):
    __tablename__ = "preferences"
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    category = Column(String(32), primary_key=True)
    channel = Column(String(8), primary_key=True)
    enabled = Column(Boolean, nullable=False)


class Device(Base):
    __tablename__ = "devices"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, nullable=False, index=True)
    platform = Column(String(16), nullable=False)  # web | android | ios
    token = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    __table_args__ = (UniqueConstraint("member_id", "token"),)


class Erasure(ErasureRecord, Base):
    """A member's data erased on members' order: who asked, when and why (never what was erased)."""
