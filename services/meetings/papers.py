"""An agenda's papers (issue 12): content's documents, published, whose audience reaches the meeting's
organisation, so that everyone invited may read them. Plain Python, no nameko.

Scheduling or changing a meeting with papers goes in steps: read who runs it and where, ask content (`reaching`:
`(organization_path, document_ids) -> [{id, title}] of those that reach it`) with no transaction open, since
SQLite's single writer must not wait on another service; then the meeting's own transaction. Content unreachable is
503 (its RPC raises ServiceUnavailable), never a meeting scheduled with papers unchecked. An agenda without papers
asks nobody.

Reading a paper (issue 11: "a document used as a meeting paper is readable by everyone who may see that meeting"):
GET /meetings/{id}/papers/{document_id}. meetings decides — the member sees the meeting (access.py: invitees, the
frozen list once closed, officers of its organisation or above) and the document is on its agenda or published with
its minutes, else 404 — then content serves the document whatever its audience, trusting meetings alone
(`content.paper`, `content.paper_attachment`; a withdrawn document is 404 there). The reading session is closed
before content is asked.
"""

from sqlalchemy import select

from shared.db import utcnow
from shared.errors import NotFound, ValidationError
from services.meetings import domain
from services.meetings.access import meeting_for, path_of
from services.meetings.models import AgendaItem, Minutes

NOT_REACHING = (
    "không tồn tại, chưa đăng hoặc không gửi tới tổ chức này.",
    "do not exist, are not published, or do not reach this organisation.",
)


def asked(agenda):
    """The agenda's document ids, in order, each once."""
    return list(dict.fromkeys(i for item in agenda or () for i in item.get("document_ids") or ()))


def check(reaching, organization_path, agenda):
    """Our 400 on `agenda`, naming the ids, unless every paper reaches the organisation; else the agenda with each
    item's papers titled (`papers`: [{id, title}], what a client lists, each read through the meeting)."""
    ids = asked(agenda)
    if not ids:
        return agenda
    titles = {paper["id"]: paper["title"] for paper in reaching(organization_path, ids)}
    refuse_missing("agenda", [i for i in ids if i not in titles], *NOT_REACHING)
    return [
        {**item, "papers": [{"id": i, "title": titles[i]} for i in dict.fromkeys(item.get("document_ids") or ())]}
        for item in agenda
    ]


def refuse_missing(field, missing, why, why_in_english):
    """Our 400 on `field` naming the documents `missing` (none: nothing to say)."""
    if missing:
        listed = ", ".join(str(i) for i in missing)
        message = f"Tài liệu {listed} {why} / Documents {listed} {why_in_english}"
        raise ValidationError(details={field: [message]})


def schedule_meeting(unit, member_id, organization_id, data, reaching, now=None):
    if asked(data.get("agenda")):
        with unit.reading() as session:
            path = domain.schedulable(session, member_id, organization_id).path
        data = {**data, "agenda": check(reaching, path, data["agenda"])}
    with unit.transaction():
        return domain.schedule_meeting(unit, member_id, organization_id, data, now)


def update_meeting(unit, member_id, meeting_id, data, reaching, now=None):
    now = now or utcnow()
    if asked(data.get("agenda")):
        with unit.reading() as session:
            path = path_of(session, domain.runnable(session, member_id, meeting_id, now))
        data = {**data, "agenda": check(reaching, path, data["agenda"])}
    with unit.transaction():
        return domain.update_meeting(unit, member_id, meeting_id, data, now)


def on_record(session, meeting_id):
    """The documents a meeting names: its agenda's papers and those published with its minutes."""
    named = {
        i
        for ids in session.scalars(select(AgendaItem.document_ids).where(AgendaItem.meeting_id == meeting_id))
        for i in ids or ()
    }
    minutes = session.get(Minutes, meeting_id)
    return named | {paper["id"] for paper in (minutes.papers if minutes is not None else ())}


def require_paper(unit, member_id, meeting_id, document_id):
    """404 unless the member sees the meeting and the document is one of its papers; the session closes here."""
    with unit.reading() as session:
        access = meeting_for(session, member_id, meeting_id)
        if document_id not in on_record(session, access.meeting.id):
            raise NotFound()
