"""Meeting papers (issues 11 and 12): "a document used as a meeting paper is readable by everyone who may see that
meeting". meetings decides who sees a meeting and which documents are its papers (its agenda's, its minutes');
content serves them. These are reached only through meetings (`member_through("meetings")`): the member's token for
their own read marks, meetings' token for the decision, so a paper is served whatever its audience. A paper is a
published document: a draft was never one, a withdrawn one is gone for members here too (404)."""

from sqlalchemy import select

from shared.errors import NotFound
from services.content import attachments, reading
from services.content.audience import may_edit, papers_reaching, reader as reader_of
from services.content.models import Document


def _published(session, document_id):
    document = session.get(Document, document_id)
    if document is None or document.status != "published":
        raise NotFound()
    return document


def get(session, principal, document_id):
    """The paper as GET /documents/{id} answers it to this member."""
    return reading.document_json(session, reader_of(session, principal), _published(session, document_id))


def attachment(session, principal, document_id, n):
    """The stored blob behind the paper's attachment `n`."""
    return attachments.stored(session, _published(session, document_id), n)


def for_minutes(session, principal, organization_path, document_ids):
    """Of these documents, those the publisher of a meeting's minutes may make its papers, in the order asked:
    published, and either reaching the meeting's organisation (as an agenda's papers must) or in the publisher's
    charge (every organisation of its audience is theirs: the resolution they wrote for the branch). A document the
    publisher merely reads, addressed to somewhere else they belong, is not theirs to show the meeting.
    → {"papers": [{id, title, attachments}]}"""
    reaching = set(papers_reaching(session, organization_path, document_ids)["reaching"])
    reader = reader_of(session, principal)
    found = {
        document.id: document
        for document in session.scalars(
            select(Document).where(Document.id.in_(document_ids), Document.status == "published")
        )
    }
    chosen = [
        found[i]
        for i in dict.fromkeys(document_ids)
        if i in found and (i in reaching or (reader.officer and may_edit(session, reader, found[i])))
    ]
    files = attachments.of(session, [document.id for document in chosen])
    return {"papers": [{"id": d.id, "title": d.title, "attachments": files[d.id]} for d in chosen]}
