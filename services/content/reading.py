"""Reading documents: a member's list (newest first, by category, unread, bookmarked, full text), one document (its
audience and its officers; others 404), read receipts, bookmarks, the unread count."""

from datetime import UTC, datetime

from sqlalchemy import and_, exists, func, or_, select

from shared import digests
from shared.contracts.common import NOT_A_CURSOR, decode_cursor, encode_cursor
from shared.contracts.content import DocumentStateConflict
from shared.db import aware, get_or_add
from shared.errors import Forbidden, NotFound, ValidationError
from services.content import attachments, progress, search
from services.content.audience import (
    addressed_to,
    audience_of,
    get_visible,
    may_edit,
    reader as reader_of,
    within_scope,
)
from services.content.models import Bookmark, Document, DocumentVersion, Read

OFFICERS_ONLY = "Chỉ cấp uỷ xem được văn bản chưa đăng. / Only officers list unpublished documents."


def _iso(value):
    return aware(value).isoformat() if value is not None else None


def summary_json(document, audience, read, bookmarked):
    return {
        "id": document.id,
        "category": document.category,
        "title": document.title,
        "summary": document.summary,
        "audience": audience,
        "status": document.status,
        "version": document.version,
        "publish_at": _iso(document.publish_at),
        "published_at": _iso(document.published_at),
        "author_member_id": document.author_member_id,
        "study": document.study,
        "read": read,
        "bookmarked": bookmarked,
        "created_at": _iso(document.created_at),
        "updated_at": _iso(document.updated_at),
    }


def _flags(session, member_id, document_ids):
    """(read ids, bookmarked ids) among these documents for the member: two lookups by primary key."""
    if not document_ids:
        return set(), set()
    read = session.scalars(
        select(Read.document_id).where(Read.member_id == member_id, Read.document_id.in_(document_ids))
    )
    marked = session.scalars(
        select(Bookmark.document_id).where(Bookmark.member_id == member_id, Bookmark.document_id.in_(document_ids))
    )
    return set(read), set(marked)


def summaries(session, member_id, documents):
    ids = [document.id for document in documents]
    audiences = audience_of(session, ids)
    read, marked = _flags(session, member_id, ids)
    files = attachments.of(session, ids)
    return [
        {
            **summary_json(d, [org_id for org_id, _ in audiences[d.id]], d.id in read, d.id in marked),
            "attachments": files[d.id],
        }
        for d in documents
    ]


def document_json(session, reader, document, version=None):
    """The document as the reader may see it: the current version, or (officers) an earlier one."""
    editable = may_edit(session, reader, document)
    (item,) = summaries(session, reader.member_id, [document])
    body = document.body
    if version is not None and version != document.version:
        earlier = session.get(DocumentVersion, (document.id, version)) if editable else None
        if earlier is None:
            raise NotFound()
        body = earlier.body
        item.update(
            version=earlier.version,
            category=earlier.category,
            title=earlier.title,
            summary=earlier.summary,
            study=earlier.study,
            published_at=_iso(earlier.published_at),
        )
    versions = (
        session.scalars(
            select(DocumentVersion.version)
            .where(DocumentVersion.document_id == document.id)
            .order_by(DocumentVersion.version)
        ).all()
        if editable
        else []
    )
    return {
        **item,
        "body": body,
        "attachments": attachments.of(session, [document.id])[document.id],
        "versions": versions,
    }


def get(session, principal, document_id, version=None):
    reader = reader_of(session, principal)
    return document_json(session, reader, get_visible(session, reader, document_id), version)


def versioned_listing(session, principal, query):
    """`listing` with its `version` (a digest of the page) and until when it holds by itself (`holds_until`):
    published documents enter a member's list by content's events (a publication, a withdrawal, a scheduled one
    going live, a file attached), so it holds until the next scheduled publication addressed to them is due;
    an officer's drafts, scheduled and withdrawn documents change with no event: they hold no time at all ("").
    `reader_organizations`: the organisations whose publications the page may show (their events forget it)."""
    reader = reader_of(session, principal)
    answer = listing(session, principal, query, reader)
    holds_until = ""
    if query["status"] == "published":
        due = session.scalar(
            select(func.min(Document.publish_at)).where(
                Document.status == "scheduled", addressed_to(reader.organizations)
            )
        )
        holds_until = None if due is None else _iso(due)
    return {
        **answer,
        "version": digests.answer_version(answer),
        "holds_until": holds_until,
        "reader_organizations": list(reader.organizations),
    }


def listing(session, principal, query, reader=None):
    """A page of documents: members the published ones addressed to them; officers (`status` other than published)
    their subtree's. Newest first, or by rank when searching."""
    reader = reader or reader_of(session, principal)
    conditions = [Document.status == query["status"]]
    if query["status"] == "published":
        conditions.append(addressed_to(reader.organizations))
    elif not reader.officer:
        raise Forbidden(details={"status": [OFFICERS_ONLY]})
    else:
        conditions.append(within_scope(reader))
    if query["category"]:
        conditions.append(Document.category == query["category"])
    if query["unread"] is not None:
        was_read = exists(
            select(Read.document_id).where(Read.member_id == reader.member_id, Read.document_id == Document.id)
        )
        conditions.append(~was_read if query["unread"] else was_read)
    if query["bookmarked"] is not None:
        marked = exists(
            select(Bookmark.document_id).where(
                Bookmark.member_id == reader.member_id, Bookmark.document_id == Document.id
            )
        )
        conditions.append(marked if query["bookmarked"] else ~marked)
    limit = query["limit"]
    if query["q"]:
        (offset,) = decode_cursor(query["cursor"], int) if query["cursor"] else (0,)
        matches = search.matching(session, query["q"])
        statement = (
            select(Document)
            .join(matches, matches.c.id == Document.id)
            .where(*conditions)
            .order_by(matches.c.rank, Document.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
        documents = session.scalars(statement).all()
        cursor = encode_cursor(offset + limit) if len(documents) > limit else None
        return {"items": summaries(session, reader.member_id, documents[:limit]), "next_cursor": cursor}
    # published: by the moment of publication; the others: newest made first
    key = Document.published_at if query["status"] == "published" else Document.created_at
    if query["cursor"]:
        moment, last_id = decode_cursor(query["cursor"], str, int)
        moment = _moment(moment)
        conditions.append(or_(key < moment, and_(key == moment, Document.id < last_id)))
    documents = session.scalars(
        select(Document).where(*conditions).order_by(key.desc(), Document.id.desc()).limit(limit + 1)
    ).all()
    cursor = None
    if len(documents) > limit:
        last = documents[limit - 1]
        cursor = encode_cursor(aware(getattr(last, key.key)).isoformat(), last.id)
    return {"items": summaries(session, reader.member_id, documents[:limit]), "next_cursor": cursor}


def _moment(text):
    try:
        return aware(datetime.fromisoformat(text)).astimezone(UTC)  # compared with what is stored: UTC
    except ValueError:
        raise ValidationError(details={"cursor": [NOT_A_CURSOR]}) from None


def unread_count(session, principal):
    reader = reader_of(session, principal)
    was_read = exists(
        select(Read.document_id).where(Read.member_id == reader.member_id, Read.document_id == Document.id)
    )
    count = session.scalar(
        select(func.count())
        .select_from(Document)
        .where(Document.status == "published", addressed_to(reader.organizations), ~was_read)
    )
    return {"unread": count}


def _readable(session, principal, document_id):
    reader = reader_of(session, principal)
    document = get_visible(session, reader, document_id)
    if document.status != "published":
        raise DocumentStateConflict()
    return reader, document


def _marks(session, member_id, document_id):
    read, marked = _flags(session, member_id, [document_id])
    return {"document_id": document_id, "read": document_id in read, "bookmarked": document_id in marked}


def mark_read(uow, principal, document_id):
    """A read receipt: the first reading is kept, a repeat changes nothing."""
    session = uow.session
    reader, document = _readable(session, principal, document_id)
    if session.get(Read, (reader.member_id, document.id)) is None:
        session.add(Read(member_id=reader.member_id, document_id=document.id))
        progress.count(session, reader.member_id, document.id, read=1)
    session.flush()
    return _marks(session, reader.member_id, document.id)


def set_bookmark(uow, principal, document_id, on):
    session = uow.session
    reader = reader_of(session, principal)
    if on:
        document = get_visible(session, reader, document_id)
        get_or_add(session, Bookmark, member_id=reader.member_id, document_id=document.id)
    else:  # a bookmark comes off even when its document has been withdrawn since
        removed = session.query(Bookmark).filter_by(member_id=reader.member_id, document_id=document_id).delete()
        if not removed:
            get_visible(session, reader, document_id)
    session.flush()
    return _marks(session, reader.member_id, document_id)
