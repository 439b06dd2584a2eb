"""meetings: its own tables, beside the outbox and processed events every service keeps.
After a change: python -m shared.cli revision meetings "<what changes>"."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase

from shared.db import utcnow
from shared.directory import Directory
from shared.erasures import ErasureRecord
from shared.messaging_tables import outbox_table, processed_event_table


class Base(DeclarativeBase):
    metadata = MetaData()


outbox = outbox_table(Base.metadata)
processed_events = processed_event_table(Base.metadata)
# members' data as meetings keeps it: who belongs where (invitees), who holds which position (who runs meetings)
directory = Directory(Base, keep=("full_name",))
# meetings held, members invited and checked in, per organisation subtree and Vietnamese month ("2026-11")
attendance_totals = directory.tally(
    "meeting_attendance", subject=Column(String(7)), counts=("meetings", "invited", "attended")
)


class Series(Base):
    """A regular meeting repeating monthly: its occurrences are meetings made ahead (schedule.py)."""

    __tablename__ = "series"
    id = Column(Integer, primary_key=True)
    organization_id = Column(Integer, nullable=False)
    day = Column(Integer, nullable=False)
    time = Column(String(5), nullable=False)  # HH:MM, Vietnam time
    # occurrences are made up to here: a replica rolling the series forward claims it by a conditional UPDATE
    made_until = Column(DateTime(timezone=True), nullable=False)
    created_by = Column(Integer, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Meeting(Base):
    __tablename__ = "meetings"
    id = Column(Integer, primary_key=True)
    organization_id = Column(Integer, nullable=False)
    organization_path = Column(String(255), nullable=False)
    series_id = Column(Integer, ForeignKey("series.id"))
    kind = Column(String(16), nullable=False)
    title = Column(String(255), nullable=False)
    starts_at = Column(DateTime(timezone=True), nullable=False)
    ends_at = Column(DateTime(timezone=True), nullable=False)
    location = Column(String(500))
    online_url = Column(String(2000))
    # scheduled | in_progress | closed | cancelled as set by officers; time moves it on too (domain.status_of)
    status = Column(String(16), nullable=False, default="scheduled")
    cancel_reason = Column(Text)
    secret = Column(LargeBinary(32), nullable=False)  # the check-in codes' key (TOTP, checkin.py)
    created_by = Column(Integer, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    started_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))
    # reminders sent: each set once by a conditional UPDATE, in the transaction that writes the event
    reminded_24h_at = Column(DateTime(timezone=True))
    reminded_1h_at = Column(DateTime(timezone=True))
    # when the attendance totals took the meeting in (totals.py): set once, by a conditional UPDATE
    counted_at = Column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_meetings_org_start", "organization_id", "starts_at", "id"),
        Index("ix_meetings_status_start", "status", "starts_at"),
        Index("ix_meetings_uncounted", "counted_at", "ends_at"),
    )


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    id = Column(Integer, primary_key=True)
    meeting_id = Column(Integer, ForeignKey("meetings.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    title = Column(String(255), nullable=False)
    document_ids = Column(JSON, nullable=False, default=list)
    papers = Column(JSON, nullable=False, default=list, server_default=text("'[]'"))  # [{id, title}], from content


class Invitee(Base):
    """A member invited to a meeting, with their answer and check-in (one row each: a repeat answers the first)."""

    __tablename__ = "invitees"
    meeting_id = Column(Integer, ForeignKey("meetings.id"), primary_key=True)
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    rsvp = Column(String(16))  # attending | absent
    rsvp_reason = Column(Text)
    rsvp_recorded_by = Column(Integer)  # an officer, for a member without the app
    rsvp_at = Column(DateTime(timezone=True))
    checked_in_at = Column(DateTime(timezone=True))
    late = Column(Boolean)
    check_in_method = Column(String(8))  # code | officer
    checked_in_by = Column(Integer)
    __table_args__ = (Index("ix_invitees_member", "member_id", "meeting_id"),)


class Opinion(Base):
    __tablename__ = "opinions"
    id = Column(Integer, primary_key=True)
    meeting_id = Column(Integer, ForeignKey("meetings.id"), nullable=False)
    agenda_item_id = Column(Integer, ForeignKey("agenda_items.id"))
    reply_to = Column(Integer, ForeignKey("opinions.id"))
    member_id = Column(Integer, nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    edited_at = Column(DateTime(timezone=True))
    pinned = Column(Boolean, nullable=False, default=False)
    pin_changed_at = Column(DateTime(timezone=True))  # the last pin or unpin: the meeting screen's activity moves
    hidden_by = Column(Integer)  # hidden stays in the record, with who hid it
    hidden_at = Column(DateTime(timezone=True))
    __table_args__ = (Index("ix_opinions_meeting", "meeting_id", "id"),)


class Vote(Base):
    __tablename__ = "votes"
    id = Column(Integer, primary_key=True)
    meeting_id = Column(Integer, ForeignKey("meetings.id"), nullable=False, index=True)
    question = Column(Text, nullable=False)
    secret = Column(Boolean, nullable=False)
    eligible = Column(String(8), nullable=False)  # official | all
    options = Column(JSON, nullable=False)
    status = Column(String(8), nullable=False, default="open")
    created_by = Column(Integer, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    closed_at = Column(DateTime(timezone=True))
    results = Column(JSON)  # frozen at close


class Voter(Base):
    """Who has voted, never how: the primary key refuses a second ballot. No id, no time."""

    __tablename__ = "voters"
    vote_id = Column(Integer, ForeignKey("votes.id"), primary_key=True)
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    # WITHOUT ROWID on SQLite: rows kept in key order, no hidden insertion order beside the tallies
    __table_args__ = {"sqlite_with_rowid": False}


class Tally(Base):
    """How many chose each option: a counter, so no row says whose ballot it was."""

    __tablename__ = "tallies"
    vote_id = Column(Integer, ForeignKey("votes.id"), primary_key=True)
    choice = Column(String(200), primary_key=True)
    count = Column(Integer, nullable=False, default=0)
    __table_args__ = {"sqlite_with_rowid": False}


class OpenBallot(Base):
    """A ballot of an open (non-secret) vote: who chose what is part of the record."""

    __tablename__ = "open_ballots"
    vote_id = Column(Integer, ForeignKey("votes.id"), primary_key=True)
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    choice = Column(String(200), nullable=False)
    cast_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Minutes(Base):
    __tablename__ = "minutes"
    meeting_id = Column(Integer, ForeignKey("meetings.id"), primary_key=True)
    body = Column(Text, nullable=False)
    resolutions = Column(JSON, nullable=False, default=list)
    # content's documents published with the minutes (the resolution and its files), as they were then:
    # [{id, title, attachments}]; read through GET /meetings/{id}/papers/{document_id} (papers.py)
    papers = Column(JSON, nullable=False, default=list, server_default=text("'[]'"))
    published_by = Column(Integer, nullable=False)
    published_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Erasure(ErasureRecord, Base):
    """A member's data erased on members' order: who asked, when and why (never what was erased)."""
