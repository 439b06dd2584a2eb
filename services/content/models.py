"""content's own tables: documents and their versions, audiences, reads, bookmarks, notes, its copy of the
directory. After a change: python -m shared.cli revision content "<what changes>"."""

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    event,
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
# where members are and what positions they hold: who sees a document, who may publish it (no personal fields);
# with its member totals, what a committee's study progress divides by
directory = Directory(Base, totals=True)
# per document and organisation subtree: members in the party there now who read it (any version) / passed its quiz
# (services/content/progress.py keeps them)
document_totals = directory.tally("content_document_totals", subject=Column(Integer), counts=("read", "passed"))


class Document(Base):
    """A document as it is now (its current version); `search_text` is its folded text for full-text search."""

    __tablename__ = "documents"
    id = Column(Integer, primary_key=True)
    category = Column(String(16), nullable=False)
    title = Column(String(300), nullable=False)
    summary = Column(Text)
    body = Column(Text, nullable=False)  # sanitised HTML: nothing executable is ever stored
    study = Column(Boolean, nullable=False, default=False)
    status = Column(String(10), nullable=False, default="draft")  # draft | scheduled | published | withdrawn
    version = Column(Integer, nullable=False, default=1)
    publish_at = Column(DateTime(timezone=True))
    published_at = Column(DateTime(timezone=True))
    withdrawn_at = Column(DateTime(timezone=True))
    author_member_id = Column(Integer)
    search_text = Column(Text, nullable=False, default="")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    __table_args__ = (
        # a member's list: published, newest first (keyset); the scheduler: due scheduled ones
        Index("ix_documents_status_published", "status", "published_at", "id"),
        Index("ix_documents_status_publish_at", "status", "publish_at"),
        # the unread count's probes of a member's few hundred addressed documents: without it PostgreSQL scanned
        # all 20,000 documents per count (18 ms against 1–3 ms at 10 M receipts, bench/README.md)
        Index(
            "ix_documents_published",
            "id",
            postgresql_where=text("status = 'published'"),
            sqlite_where=text("status = 'published'"),
        ),
    )


class DocumentVersion(Base):
    """Each published version as it was published: officers read the earlier ones."""

    __tablename__ = "document_versions"
    document_id = Column(Integer, ForeignKey("documents.id"), primary_key=True, autoincrement=False)
    version = Column(Integer, primary_key=True, autoincrement=False)
    category = Column(String(16), nullable=False)
    title = Column(String(300), nullable=False)
    summary = Column(Text)
    body = Column(Text, nullable=False)
    study = Column(Boolean, nullable=False, default=False)
    published_at = Column(DateTime(timezone=True), nullable=False)
    author_member_id = Column(Integer)


class Audience(Base):
    """An organisation a document is addressed to: one row an organisation, never one a member. A member's
    organisation and those above it are the ids in their path, so visibility needs no path here."""

    __tablename__ = "document_audience"
    organization_id = Column(Integer, primary_key=True, autoincrement=False)
    document_id = Column(Integer, ForeignKey("documents.id"), primary_key=True, autoincrement=False)
    __table_args__ = (Index("ix_document_audience_document", "document_id"),)


class Attachment(Base):
    """A file attached to a document: its bytes in the blob store (shared/blobs.py) under an unguessable key,
    never in this database and never on the broker. `n` numbers a document's attachments from 1."""

    __tablename__ = "document_attachments"
    document_id = Column(Integer, ForeignKey("documents.id"), primary_key=True, autoincrement=False)
    n = Column(Integer, primary_key=True, autoincrement=False)
    name = Column(String(255), nullable=False)
    content_type = Column(String(127), nullable=False)  # sniffed from the bytes, never from the name
    size = Column(BigInteger, nullable=False)
    sha256 = Column(String(64), nullable=False)
    blob_key = Column(String(64), nullable=False, unique=True)
    added_by = Column(Integer)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Read(Base):
    """A member read a document (first time kept). The key answers `read` and the unread count per member."""

    __tablename__ = "document_reads"
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    document_id = Column(Integer, primary_key=True, autoincrement=False)
    read_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # a document's readers (committee figures, erasure by document)
    __table_args__ = (Index("ix_document_reads_document", "document_id", "member_id"),)


class Bookmark(Base):
    __tablename__ = "document_bookmarks"
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    document_id = Column(Integer, primary_key=True, autoincrement=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Note(Base):
    """A member's private note: read by its owner alone."""

    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, nullable=False)
    title = Column(String(300), nullable=False)
    body = Column(Text, nullable=False, default="")
    document_id = Column(Integer)
    meeting_id = Column(Integer)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    __table_args__ = (Index("ix_notes_member", "member_id", "id"),)


class Quiz(Base):
    """A study document's quiz: questions with options and their right answers (never shown to members), a pass
    mark (the fraction of questions answered right) and how many attempts a member has."""

    __tablename__ = "quizzes"
    document_id = Column(Integer, ForeignKey("documents.id"), primary_key=True, autoincrement=False)
    questions = Column(JSON, nullable=False)  # [{text, options: [text], correct: [index]}]
    pass_mark = Column(Float, nullable=False)
    max_attempts = Column(Integer, nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class StudyResult(Base):
    """A member's attempts at a quiz: how many, the best score kept, passed once the best reaches the pass mark."""

    __tablename__ = "study_results"
    member_id = Column(Integer, primary_key=True, autoincrement=False)
    document_id = Column(Integer, primary_key=True, autoincrement=False)
    attempts = Column(Integer, nullable=False, default=0)
    best_score = Column(Float, nullable=False, default=0.0)
    passed = Column(Boolean, nullable=False, default=False)
    last_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # a document's results (committee figures)
    __table_args__ = (Index("ix_study_results_document", "document_id", "passed"),)


class Erasure(ErasureRecord, Base):
    """A member's data erased on members' order: who asked, when and why (never what was erased)."""


# Full-text search over `documents.search_text` (folded: shared.text.search_key). Kept outside the models' metadata
# (tables and indexes named fts_*: shared/migrations.py leaves them to the revisions): an external-content FTS5
# table kept by triggers on SQLite, a GIN index over the `simple` tsvector on PostgreSQL.
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE fts_documents USING fts5(search_text, content='documents', content_rowid='id')",
    (
        "CREATE TRIGGER fts_documents_insert AFTER INSERT ON documents BEGIN "
        "INSERT INTO fts_documents(rowid, search_text) VALUES (new.id, new.search_text); END"
    ),
    (
        "CREATE TRIGGER fts_documents_delete AFTER DELETE ON documents BEGIN "
        "INSERT INTO fts_documents(fts_documents, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
    ),
    (
        "CREATE TRIGGER fts_documents_update AFTER UPDATE OF search_text ON documents BEGIN "
        "INSERT INTO fts_documents(fts_documents, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO fts_documents(rowid, search_text) VALUES (new.id, new.search_text); END"
    ),
)
POSTGRESQL_SEARCH = ("CREATE INDEX fts_documents_search ON documents USING gin (to_tsvector('simple', search_text))",)

for _statement in SQLITE_SEARCH:
    event.listen(Document.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_SEARCH:
    event.listen(Document.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
