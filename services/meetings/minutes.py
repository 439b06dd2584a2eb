"""Minutes and resolutions (issue 12): published by an officer running a meeting that took place, to everyone who
sees the meeting: its invitees (the list frozen with the record) and the officers of its organisation or above (the
committees above). A correction publishes them again.

With them may go content's documents (the resolution, with its files attached to the document in content): checked
with content before the minutes' own transaction, in steps as an agenda's papers are (papers.py), and kept as they
were then ({id, title, attachments}); whoever sees the meeting reads them through its papers route. Which documents
the publisher may name is content's to say (services/content/papers.py `for_minutes`): published ones that reach the
meeting's organisation, or that are in the publisher's charge (every organisation of their audience is theirs)."""

from shared.contracts.meetings import MeetingClosed
from shared.db import aware, utcnow
from shared.errors import Conflict, NotFound
from services.meetings.access import meeting_for, path_of
from services.meetings.domain import facts, status_of
from services.meetings.models import Minutes
from services.meetings.papers import refuse_missing

NOT_LINKABLE = (
    "không tồn tại, chưa đăng, hoặc vừa không gửi tới tổ chức này vừa không thuộc phạm vi phụ trách của bạn.",
    "do not exist, are not published, or neither reach this organisation nor lie in your charge.",
)


def minutes_json(minutes):
    return {
        "meeting_id": minutes.meeting_id,
        "body": minutes.body,
        "resolutions": list(minutes.resolutions or []),
        "papers": list(minutes.papers or []),
        "published_by": minutes.published_by,
        "published_at": aware(minutes.published_at).isoformat(),
    }


def _publishable(session, member_id, meeting_id, now):
    meeting = meeting_for(session, member_id, meeting_id).require_run().meeting
    status = status_of(meeting, now)
    if status == "cancelled":
        raise MeetingClosed()
    if status == "scheduled":
        raise Conflict(message="Cuộc họp chưa diễn ra. / The meeting has not taken place yet.")
    return meeting


def publish_minutes(unit, member_id, meeting_id, data, papers_for, now=None):
    """`papers_for(organization_path, document_ids) -> [{id, title, attachments}]`: content's answer, asked with no
    transaction open and only when documents are named; content unreachable is a 503 and nothing is published."""
    now = now or utcnow()
    asked = list(dict.fromkeys(data.get("document_ids") or ()))
    papers = []
    if asked:
        with unit.reading() as session:
            path = path_of(session, _publishable(session, member_id, meeting_id, now))
        found = {paper["id"]: paper for paper in papers_for(path, asked)}
        refuse_missing("document_ids", [i for i in asked if i not in found], *NOT_LINKABLE)
        papers = [found[i] for i in asked]
    with unit.transaction():
        session = unit.session
        meeting = _publishable(session, member_id, meeting_id, now)  # again: it may have changed meanwhile
        minutes = session.get(Minutes, meeting.id) or Minutes(meeting_id=meeting.id)
        minutes.body, minutes.resolutions, minutes.papers = data["body"], list(data["resolutions"]), papers
        minutes.published_by, minutes.published_at = member_id, now
        session.add(minutes)
        session.flush()
        unit.publish(
            "meetings.minutes_published",
            facts(session, meeting, resolutions=minutes.resolutions, document_ids=[p["id"] for p in papers]),
        )
        return minutes_json(minutes)


def get_minutes(session, member_id, meeting_id):
    access = meeting_for(session, member_id, meeting_id)
    minutes = session.get(Minutes, access.meeting.id)
    if minutes is None:
        raise NotFound(message="Chưa có biên bản. / No minutes yet.")
    return minutes_json(minutes)
