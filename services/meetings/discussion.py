"""Opinions on a meeting's agenda, with replies, before and during the meeting. The author may edit one for
5 minutes; the meeting's runners pin or hide one. A hidden opinion stays in the record with who hid it: its body
is shown to the runners and to no one else."""

from datetime import timedelta

from sqlalchemy import select

from shared.contracts.meetings import EditWindowPassed, MeetingClosed
from shared.db import aware, utcnow
from shared.errors import Forbidden, NotFound, ValidationError
from services.meetings.access import meeting_for
from services.meetings.domain import status_of, updated
from services.meetings.listing import id_page
from services.meetings.models import AgendaItem, Opinion, directory

EDITABLE_FOR = timedelta(minutes=5)
OPEN = ("scheduled", "in_progress")


def opinion_json(session, opinion, sees_hidden):
    name = session.scalar(
        select(directory.Membership.full_name).where(directory.Membership.member_id == opinion.member_id)
    )
    hidden = opinion.hidden_by is not None
    return {
        "id": opinion.id,
        "meeting_id": opinion.meeting_id,
        "agenda_item_id": opinion.agenda_item_id,
        "reply_to": opinion.reply_to,
        "member_id": opinion.member_id,
        "full_name": name,
        "body": opinion.body if sees_hidden or not hidden else None,
        "created_at": aware(opinion.created_at).isoformat(),
        "edited_at": aware(opinion.edited_at).isoformat() if opinion.edited_at else None,
        "pinned": bool(opinion.pinned),
        "hidden": hidden,
        "hidden_by": opinion.hidden_by,
    }


def add_opinion(unit, member_id, meeting_id, data, now=None):
    now = now or utcnow()
    session = unit.session
    access = meeting_for(session, member_id, meeting_id)
    if not access.runs:
        access.require_invitee()
    if status_of(access.meeting, now) not in OPEN:
        raise MeetingClosed()
    problems = {}
    if data.get("agenda_item_id") is not None:
        item = session.get(AgendaItem, data["agenda_item_id"])
        if item is None or item.meeting_id != access.meeting.id:
            problems["agenda_item_id"] = ["Không có trong chương trình họp. / Not on this meeting's agenda."]
    if data.get("reply_to") is not None:
        parent = session.get(Opinion, data["reply_to"])
        if parent is None or parent.meeting_id != access.meeting.id:
            problems["reply_to"] = ["Không có ý kiến này. / No such opinion in this meeting."]
    if problems:
        raise ValidationError(details=problems)
    opinion = Opinion(
        meeting_id=access.meeting.id,
        agenda_item_id=data.get("agenda_item_id"),
        reply_to=data.get("reply_to"),
        member_id=member_id,
        body=data["body"],
        created_at=now,
    )
    session.add(opinion)
    session.flush()
    updated(unit, access.meeting)  # the meeting's screen shows it: its invitees' versions of the meeting change
    return opinion_json(session, opinion, access.runs)


def list_opinions(session, member_id, meeting_id, data):
    """Oldest first, a page at a time; pinned ones are marked (the portal shows them on top)."""
    access = meeting_for(session, member_id, meeting_id)
    query = select(Opinion).where(Opinion.meeting_id == access.meeting.id)
    return id_page(session, query, Opinion.id, data, lambda row: opinion_json(session, row, access.runs))


def _opinion(session, member_id, opinion_id):
    opinion = session.get(Opinion, opinion_id)
    if opinion is None:
        raise NotFound()
    return opinion, meeting_for(session, member_id, opinion.meeting_id)


def edit_opinion(unit, member_id, opinion_id, body, now=None):
    now = now or utcnow()
    session = unit.session
    opinion, access = _opinion(session, member_id, opinion_id)
    if opinion.member_id != member_id:
        raise Forbidden(message="Chỉ người viết được sửa. / Only its author edits an opinion.")
    if now - aware(opinion.created_at) > EDITABLE_FOR or opinion.hidden_by is not None:
        raise EditWindowPassed()
    opinion.body, opinion.edited_at = body, now
    session.flush()
    updated(unit, access.meeting)
    return opinion_json(session, opinion, access.runs)


def moderate(unit, member_id, opinion_id, pinned=None, hidden=False, now=None):
    """A runner pins or unpins, or hides, an opinion (hiding is for good: the record keeps who hid it)."""
    session = unit.session
    opinion, access = _opinion(session, member_id, opinion_id)
    access.require_run()
    now = now or utcnow()
    if pinned is not None and bool(pinned) != opinion.pinned:
        opinion.pinned, opinion.pin_changed_at = pinned, now
    if hidden and opinion.hidden_by is None:
        opinion.hidden_by, opinion.hidden_at = member_id, now
    session.flush()
    updated(unit, access.meeting)
    return opinion_json(session, opinion, True)
