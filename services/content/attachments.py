"""Attachments: files added to a document by the officers who may edit it, read by whoever may read it. The
gateway streams the bytes into the blob store and back out (shared/uploads.py, shared/downloads.py); content keeps
what the store answered and decides who may add or fetch one, so a refused upload is deleted by the gateway and a
member outside the audience gets 404 for the file as for the document."""

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from shared import filetypes
from shared.blobs import KEY
from shared.contracts.content import DocumentStateConflict
from shared.errors import Conflict, NotFound
from shared.validation import load
from services.content import documents
from services.content.audience import addressed_to, get_editable, get_visible, organizations_of, reader as reader_of
from services.content.models import Attachment, Document

MAX_PER_DOCUMENT = 20
TOO_MANY = f"Tối đa {MAX_PER_DOCUMENT} tệp mỗi văn bản. / At most {MAX_PER_DOCUMENT} files a document."


class StoredBlob(Schema):
    """What the gateway hands over of a stored blob (shared.blobs.Blob)."""

    key = fields.String(required=True, validate=validate.Regexp(KEY))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    content_type = fields.String(required=True, validate=validate.OneOf(sorted(filetypes.EXTENSIONS)))


def attachment_json(row):
    return {"n": row.n, "name": row.name, "content_type": row.content_type, "size": row.size}


def of(session, document_ids):
    """document id → its attachments' JSON, in order."""
    found = {document_id: [] for document_id in document_ids}
    rows = session.scalars(
        select(Attachment)
        .where(Attachment.document_id.in_(document_ids))
        .order_by(Attachment.document_id, Attachment.n)
    )
    for row in rows:
        found[row.document_id].append(attachment_json(row))
    return found


def _attachable(session, principal, document_id):
    document = get_editable(session, reader_of(session, principal), document_id)
    if document.status == "withdrawn":
        raise DocumentStateConflict()
    return document


def may_attach(session, principal, document_id):
    """Whether the caller may add a file to the document (asked before the upload is read): else 404/403/409."""
    _attachable(session, principal, document_id)
    return {"document_id": document_id}


def add(uow, principal, document_id, blob, filename):
    session = uow.session
    document = _attachable(session, principal, document_id)
    blob = load(StoredBlob(), blob)
    count, last = session.execute(
        select(func.count(), func.coalesce(func.max(Attachment.n), 0)).where(Attachment.document_id == document.id)
    ).one()
    if count >= MAX_PER_DOCUMENT:
        raise Conflict(details={"file": [TOO_MANY]})
    row = Attachment(
        document_id=document.id,
        n=last + 1,
        name=str(filename)[:255],
        content_type=blob["content_type"],
        size=blob["size"],
        sha256=blob["sha256"],
        blob_key=blob["key"],
        added_by=principal.member_id,
    )
    session.add(row)
    session.flush()
    if document.status == "published":  # its readers' lists show it: no new version, so no publication event
        payload = {"document_id": document.id, "audience": documents.audience_payload(session, document)}
        uow.publish("content.document_changed", payload)
    return attachment_json(row)


def stored(session, document, n):
    """The stored blob behind the document's attachment `n` (404 when it has none)."""
    row = session.get(Attachment, (document.id, n))
    if row is None:
        raise NotFound()
    return _blob_json(row)


def _blob_json(row):
    return {**attachment_json(row), "key": row.blob_key, "sha256": row.sha256}


def fetch(session, principal, document_id, n):
    """The stored blob behind attachment `n`, for whoever may see the document (others 404). Every download waits
    for this before its first byte, so a member's own case, a published document addressed to her, is one query
    after her organisations (six otherwise); officers, drafts and refusals take the whole check."""
    organizations = organizations_of(session, principal.member_id)
    row = session.scalar(
        select(Attachment)
        .join(Document, Document.id == Attachment.document_id)
        .where(
            Attachment.document_id == document_id,
            Attachment.n == n,
            Document.status == "published",
            addressed_to(organizations),
        )
    )
    if row is not None:
        return _blob_json(row)
    reader = reader_of(session, principal, organizations)
    return stored(session, get_visible(session, reader, document_id), n)
