"""Writing documents: draft → scheduled (`publish_at`) → published → withdrawn. A published document edited becomes
a new version; every published version is kept, and each publication (a new version too) is announced with
`content.document_published` through the outbox, a withdrawal with `content.document_withdrawn`."""

from datetime import UTC

from sqlalchemy import select, update

from shared.contracts.content import DocumentStateConflict
from shared.db import aware, utcnow
from shared.errors import Forbidden
from services.content import bodies
from services.content.audience import (
    audience_of,
    get_editable,
    known_organizations,
    reader as reader_of,
    require_manages,
)
from services.content.models import Audience, Document, DocumentVersion

TEXT_FIELDS = ("category", "title", "summary", "study")
ONLY_UNPUBLISHED = "Chỉ văn bản chưa đăng mới lên lịch được. / Only an unpublished document can be scheduled."


def _utc(moment):
    """Times are stored in UTC (SQLite keeps a moment's digits and drops its offset)."""
    return moment.astimezone(UTC) if moment is not None else None


def _iso(value):
    return aware(value).isoformat() if value is not None else None


def create(uow, principal, data):
    session = uow.session
    reader = reader_of(session, principal)
    if not reader.officer:
        raise Forbidden()
    organizations = known_organizations(session, data["audience"])
    require_manages(reader.scope, organizations)
    now = utcnow()
    document = Document(
        author_member_id=principal.member_id,
        status="scheduled" if data["publish_at"] else "draft",
        publish_at=_utc(data["publish_at"]),
        version=1,
        created_at=now,
        updated_at=now,
        **{name: data[name] for name in TEXT_FIELDS},
    )
    _set_body(document, data["body"])
    session.add(document)
    session.flush()
    session.add_all(Audience(document_id=document.id, organization_id=org.id) for org in organizations)
    session.flush()
    return document


def update_document(uow, principal, document_id, data):
    """A draft or scheduled document changes in place; a published one gets a new version, published at once."""
    session = uow.session
    reader = reader_of(session, principal)
    document = get_editable(session, reader, document_id)
    if document.status == "withdrawn":
        raise DocumentStateConflict()
    if "publish_at" in data and document.status == "published":
        raise DocumentStateConflict(details={"publish_at": [ONLY_UNPUBLISHED]})
    changed = False
    if "audience" in data:
        organizations = known_organizations(session, data["audience"])
        require_manages(reader.scope, organizations)
        current = sorted(org_id for org_id, _ in audience_of(session, [document.id])[document.id])
        if sorted(org.id for org in organizations) != current:
            if document.status == "published":  # its publication names the new audience; those left say so too
                payload = {"document_id": document.id, "audience": audience_payload(session, document)}
                uow.publish("content.document_changed", payload)
            session.query(Audience).filter(Audience.document_id == document.id).delete()
            session.add_all(Audience(document_id=document.id, organization_id=org.id) for org in organizations)
            changed = True
    for name in TEXT_FIELDS:
        if name in data and getattr(document, name) != data[name]:
            setattr(document, name, data[name])
            changed = True
    if "body" in data:
        changed = _set_body(document, data["body"]) or changed
    else:
        document.search_text = bodies.search_text(document.title, document.summary, document.body)
    if "publish_at" in data:
        document.publish_at = _utc(data["publish_at"])
        document.status = "scheduled" if data["publish_at"] else "draft"
        changed = True
    if changed:
        document.updated_at = utcnow()
        if document.status == "published":
            document.version += 1
            _publish(uow, document)
    session.flush()
    return document


def publish(uow, principal, document_id):
    document = get_editable(uow.session, reader_of(uow.session, principal), document_id)
    if document.status not in ("draft", "scheduled"):
        raise DocumentStateConflict()
    document.status = "published"
    _publish(uow, document)
    return document


def withdraw(uow, principal, document_id):
    document = get_editable(uow.session, reader_of(uow.session, principal), document_id)
    if document.status not in ("published", "scheduled"):
        raise DocumentStateConflict()
    was_published = document.status == "published"
    document.status, document.withdrawn_at = "withdrawn", utcnow()
    document.updated_at = document.withdrawn_at
    if was_published:
        uow.publish(
            "content.document_withdrawn",
            {
                "document_id": document.id,
                "audience": audience_payload(uow.session, document),
                "withdrawn_at": _iso(document.withdrawn_at),
            },
        )
    return document


def publish_due(uow, now=None, limit=100):
    """The scheduler's pass: publish scheduled documents whose time has come. Each is claimed by a conditional
    UPDATE, so two replicas running this at once never both publish one. Returns how many it published."""
    now = now or utcnow()
    published = 0
    with uow.reading() as session:  # most passes find nothing: they never wait for the writer
        due = session.scalars(
            select(Document.id)
            .where(Document.status == "scheduled", Document.publish_at <= now)
            .order_by(Document.publish_at)
            .limit(limit)
        ).all()
    if not due:
        return 0
    with uow.transaction() as session:
        for document_id in due:
            claimed = session.execute(
                update(Document)
                .where(Document.id == document_id, Document.status == "scheduled")
                .values(status="published")
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed:
                document = session.get(Document, document_id, populate_existing=True)
                _publish(uow, document, now)
                published += 1
    return published


def _set_body(document, source):
    body = bodies.render(source)
    changed = body != document.body
    document.body = body
    document.search_text = bodies.search_text(document.title, document.summary, body)
    return changed


def _publish(uow, document, now=None):
    """Record the document's current version as published now and announce it."""
    session = uow.session
    document.published_at = now or utcnow()
    session.add(
        DocumentVersion(
            document_id=document.id,
            version=document.version,
            category=document.category,
            title=document.title,
            summary=document.summary,
            body=document.body,
            study=document.study,
            published_at=document.published_at,
            author_member_id=document.author_member_id,
        )
    )
    session.flush()
    uow.publish(
        "content.document_published",
        {
            "document_id": document.id,
            "version": document.version,
            "category": document.category,
            "title": document.title,
            "summary": document.summary,
            "study": document.study,
            "audience": audience_payload(session, document),
            "published_at": _iso(document.published_at),
            "author_member_id": document.author_member_id,
        },
    )


def audience_payload(session, document):
    return [
        {"organization_id": org_id, "organization_path": path}
        for org_id, path in audience_of(session, [document.id])[document.id]
    ]
