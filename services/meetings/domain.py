"""Meetings: scheduling, changing, cancelling, starting and closing; a meeting's status and its JSON. Plain Python,
no nameko (reading lists: listing.py).

Times are stored in UTC; a meeting's status moves on with the clock (`status_of`): scheduled until it starts,
in progress until it ends, then closed, unless an officer started, closed or cancelled it first. Every function
that depends on the time takes `now`, so tests choose the moment instead of waiting for it.
"""

import secrets
from datetime import UTC, timedelta

from sqlalchemy import case, delete, func, select, update

from shared.contracts.meetings import MeetingClosed
from shared.db import aware, utcnow
from shared.errors import Forbidden, NotFound, ValidationError
from services.meetings import invitations, schedule, totals
from services.meetings.access import may_run, meeting_for, oversees, path_of, positions
from services.meetings.models import AgendaItem, Invitee, Meeting, Opinion, directory

MAX_AHEAD = timedelta(days=365)
MAX_LENGTH = timedelta(hours=24)
CHANGEABLE = ("title", "starts_at", "ends_at", "location", "online_url", "agenda")


def status_of(meeting, now):
    """The meeting's status at `now`: what officers set, moved on by the clock."""
    if meeting.status in ("cancelled", "closed"):
        return meeting.status
    if now >= aware(meeting.ends_at):
        return "closed"
    if meeting.status == "in_progress" or now >= aware(meeting.starts_at):
        return "in_progress"
    return "scheduled"


def check_times(starts_at, ends_at, now):
    """Our 400 for a meeting that ends before it starts, starts in the past, lasts over a day or is over a year
    ahead (times without an offset never reach here: the schema refuses them)."""
    problems = {}
    if ends_at <= starts_at:
        problems["ends_at"] = ["Giờ kết thúc phải sau giờ bắt đầu. / The end must be after the start."]
    elif ends_at - starts_at > MAX_LENGTH:
        problems["ends_at"] = ["Một cuộc họp không dài quá 24 giờ. / A meeting lasts at most 24 hours."]
    if starts_at < now:
        problems["starts_at"] = ["Giờ bắt đầu đã qua. / The start is in the past."]
    elif starts_at > now + MAX_AHEAD:
        problems["starts_at"] = ["Không lên lịch quá một năm. / At most a year ahead."]
    if problems:
        raise ValidationError(details=problems)


def organization_of(session, organization_id):
    return session.get(directory.Organization, organization_id)


def in_utc(data):
    """The request's times in UTC, as stored (SQLite keeps no offset: a time stored at +07:00 would come back
    7 hours off)."""
    return {key: value.astimezone(UTC) if key in ("starts_at", "ends_at") else value for key, value in data.items()}


def schedule_meeting(unit, member_id, organization_id, data, now=None):
    """A meeting of the organisation (and, with `repeat`, its next monthly occurrences): its invitees are the
    organisation's current members (a committee meeting: its committee); each occurrence is told to them."""
    now, data = now or utcnow(), in_utc(data)
    session = unit.session
    organization = schedulable(session, member_id, organization_id)
    check_times(data["starts_at"], data["ends_at"], now)
    if data["repeat"] and data["kind"] != "regular":
        raise ValidationError(details={"repeat": ["Chỉ họp thường kỳ mới lặp lại. / Only regular meetings repeat."]})
    _check_place(data)
    meeting = add_meeting(unit, organization, member_id, data, data["starts_at"], data["ends_at"])
    if data["repeat"]:
        series = schedule.start_series(session, organization.id, member_id, data["repeat"], now)
        meeting.series_id = series.id
        session.flush()
        schedule.extend_series(unit, series, now, add_meeting)
        series.made_until = now + schedule.repeat_ahead()
    return meeting_json(session, meeting, member_id, now)


def schedulable(session, member_id, organization_id):
    """The organisation whose meetings the member runs: 404 to whoever does not know it, 403 to a plain member."""
    organization = organization_of(session, organization_id)
    held = positions(session, member_id)
    if organization is None or not (oversees(held, organization.path) or member_of(session, member_id, organization)):
        raise NotFound()
    if not may_run(held, organization.path):
        raise_not_runner()
    return organization


def member_of(session, member_id, organization):
    membership = session.get(directory.Membership, member_id)
    return membership is not None and membership.in_party and membership.organization_id == organization.id


def raise_not_runner():
    raise Forbidden(
        message="Chỉ bí thư, phó bí thư của tổ chức hoặc cấp uỷ cấp trên được lên lịch họp. / Only the "
        "organisation's secretary or deputy secretary, or an officer of a committee above, runs its meetings."
    )


def _check_place(data):
    if not (data.get("location") or data.get("online_url")):
        raise ValidationError(
            details={"location": ["Cần địa điểm hoặc đường dẫn họp trực tuyến. / A place or an online link."]}
        )


def add_meeting(unit, organization, member_id, data, starts_at, ends_at, series_id=None):
    """One meeting row, its agenda and invitees, and `meetings.meeting_scheduled`."""
    session = unit.session
    meeting = Meeting(
        organization_id=organization.id,
        organization_path=organization.path,
        series_id=series_id,
        kind=data["kind"],
        title=data["title"],
        starts_at=starts_at,
        ends_at=ends_at,
        location=data.get("location"),
        online_url=data.get("online_url"),
        status="scheduled",
        secret=secrets.token_bytes(20),
        created_by=member_id,
    )
    session.add(meeting)
    session.flush()
    _set_agenda(session, meeting, data.get("agenda") or [])
    invitations.invite_all(session, meeting)
    unit.publish("meetings.meeting_scheduled", facts(session, meeting))
    return meeting


def _set_agenda(session, meeting, items):
    """The agenda in order; an item's papers are content's documents, checked before (papers.py)."""
    existing = session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)
    ).all()
    for position, item in enumerate(items):
        row = existing[position] if position < len(existing) else AgendaItem(meeting_id=meeting.id)
        row.position, row.title, row.document_ids = position, item["title"], list(item.get("document_ids") or [])
        row.papers = list(item.get("papers") or [])
        session.add(row)
    gone = [row.id for row in existing[len(items) :]]
    if gone:
        # opinions on a dropped item stay, on the meeting as a whole
        session.execute(update(Opinion).where(Opinion.agenda_item_id.in_(gone)).values(agenda_item_id=None))
        session.execute(delete(AgendaItem).where(AgendaItem.id.in_(gone)))
    session.flush()


def facts(session, meeting, **extra):
    """What an event tells subscribers about a meeting (MeetingFacts), invitees as of now."""
    return {
        "meeting_id": meeting.id,
        **_described(meeting),
        "organization_path": path_of(session, meeting),
        "invitees": invitations.member_ids(session, meeting.id),
        **extra,
    }


def _described(meeting):
    """What the API and the events both say of a meeting."""
    return {
        "organization_id": meeting.organization_id,
        "kind": meeting.kind,
        "title": meeting.title,
        "starts_at": aware(meeting.starts_at).isoformat(),
        "ends_at": aware(meeting.ends_at).isoformat(),
        "location": meeting.location,
        "online_url": meeting.online_url,
    }


def runnable(session, member_id, meeting_id, now, states=("scheduled",)):
    """The meeting the member runs, in one of `states` (404, 403, or 409 MeetingClosed)."""
    access = meeting_for(session, member_id, meeting_id).require_run()
    if status_of(access.meeting, now) not in states:
        raise MeetingClosed()
    return access.meeting


def update_meeting(unit, member_id, meeting_id, data, now=None):
    """Reschedule or change a meeting that has not started; its invitees are told what changed."""
    now, data = now or utcnow(), in_utc(data)
    session = unit.session
    meeting = runnable(session, member_id, meeting_id, now)
    starts_at = data.get("starts_at", aware(meeting.starts_at))
    ends_at = data.get("ends_at", aware(meeting.ends_at))
    if "starts_at" in data or "ends_at" in data:
        check_times(starts_at, ends_at, now)
    place = {
        "location": data.get("location", meeting.location),
        "online_url": data.get("online_url", meeting.online_url),
    }
    _check_place(place)
    changed, retitled = [], False
    for field in CHANGEABLE:
        if field not in data:
            continue
        if field == "agenda":
            before = agenda_of(session, meeting.id)
            _set_agenda(session, meeting, data["agenda"])
            after = agenda_of(session, meeting.id)
            if [(i["title"], i["document_ids"]) for i in before] != [(i["title"], i["document_ids"]) for i in after]:
                changed.append(field)
            retitled = before != after  # the same papers, one renamed at content since: shown, no news
            continue
        value = data[field]
        current = aware(getattr(meeting, field)) if field in ("starts_at", "ends_at") else getattr(meeting, field)
        if value != current:
            setattr(meeting, field, value)
            changed.append(field)
    if "starts_at" in changed:
        meeting.reminded_24h_at = meeting.reminded_1h_at = None  # the reminders follow the new time
    if changed:
        session.flush()
        unit.publish("meetings.meeting_changed", facts(session, meeting, changed=changed))
    elif retitled:
        updated(unit, meeting)
    return meeting_json(session, meeting, member_id, now)


def cancel_meeting(unit, member_id, meeting_id, reason, now=None):
    now = now or utcnow()
    session = unit.session
    meeting = runnable(session, member_id, meeting_id, now, ("scheduled", "in_progress"))
    meeting.status, meeting.cancel_reason = "cancelled", reason
    unit.publish("meetings.meeting_cancelled", facts(session, meeting, reason=reason))
    return meeting_json(session, meeting, member_id, now)


def start_meeting(unit, member_id, meeting_id, now=None):
    """An officer opens the meeting (before its time if all are there): answers and invitees freeze."""
    now = now or utcnow()
    meeting = runnable(unit.session, member_id, meeting_id, now, ("scheduled", "in_progress"))
    if meeting.status == "scheduled":
        meeting.status, meeting.started_at = "in_progress", now
        updated(unit, meeting)
    return meeting_json(unit.session, meeting, member_id, now)


def close_meeting(unit, member_id, meeting_id, now=None):
    now = now or utcnow()
    meeting = runnable(unit.session, member_id, meeting_id, now, ("scheduled", "in_progress"))
    meeting.status, meeting.closed_at = "closed", now
    meeting.started_at = meeting.started_at or now
    unit.session.flush()
    totals.count_meeting(unit, meeting.id, now)  # held: into the attendance totals now, not at the next pass
    updated(unit, meeting)
    return meeting_json(unit.session, meeting, member_id, now)


def updated(unit, meeting):
    """Say that what the meeting shows changed with no news for its invitees (their lists kept elsewhere)."""
    unit.publish("meetings.meeting_updated", {"meeting_id": meeting.id, "organization_id": meeting.organization_id})


def invitations_changed(unit, changes):
    """Say which meetings gained or lost an invitee as the directory changed ([(meeting id, organisation id, member
    id)]): their counts, and the member's own list."""
    for meeting_id, organization_id, member_id in changes or ():
        payload = {"meeting_id": meeting_id, "organization_id": organization_id, "member_ids": [member_id]}
        unit.publish("meetings.meeting_updated", payload)


# --- how a meeting is shown ----------------------------------------------------------------------------------------


def agenda_of(session, meeting_id):
    return agendas_of(session, [meeting_id])[meeting_id]


def agendas_of(session, meeting_ids):
    """{meeting id → its agenda, in order}: one query for a page of meetings."""
    agendas = {meeting_id: [] for meeting_id in meeting_ids}
    rows = session.scalars(
        select(AgendaItem)
        .where(AgendaItem.meeting_id.in_(meeting_ids))
        .order_by(AgendaItem.meeting_id, AgendaItem.position)
    )
    for row in rows:
        agendas[row.meeting_id].append(
            {
                "id": row.id,
                "title": row.title,
                "document_ids": list(row.document_ids or []),
                "papers": list(row.papers or []),
            }
        )
    return agendas


def invitations_of(session, meeting_ids, member_id):
    """{meeting id → the member's invitation} for those of the meetings they are invited to: one query a page."""
    rows = session.scalars(select(Invitee).where(Invitee.meeting_id.in_(meeting_ids), Invitee.member_id == member_id))
    return {row.meeting_id: row for row in rows}


def counts_of(session, meeting_ids):
    rows = session.execute(
        select(
            Invitee.meeting_id,
            func.count(),
            func.count(case((Invitee.rsvp == "attending", 1))),
            func.count(Invitee.checked_in_at),
        )
        .where(Invitee.meeting_id.in_(meeting_ids))
        .group_by(Invitee.meeting_id)
    ).all()
    return {meeting_id: counts for meeting_id, *counts in rows}


def rsvp_json(invitee, reason=True):
    """The answer; `reason=False` leaves out why a member is absent (their officers' to read, not the branch's)."""
    if invitee is None or invitee.rsvp is None:
        return None
    return {
        "response": invitee.rsvp,
        "reason": invitee.rsvp_reason if reason else None,
        "recorded_by": invitee.rsvp_recorded_by,
        "answered_at": aware(invitee.rsvp_at).isoformat(),
    }


def check_in_json(invitee):
    if invitee is None or invitee.checked_in_at is None:
        return None
    return {
        "member_id": invitee.member_id,
        "checked_in_at": aware(invitee.checked_in_at).isoformat(),
        "late": bool(invitee.late),
        "method": invitee.check_in_method,
    }


def meeting_json(session, meeting, member_id, now, counts=None, invitee=False, agenda=None):
    """How `member_id` sees the meeting; a page of them passes what it read for all at once (counts, their
    invitation — None for none —, the agenda) rather than two or three queries a meeting."""
    session.flush()
    counts = counts if counts is not None else counts_of(session, [meeting.id]).get(meeting.id, (0, 0, 0))
    mine = session.get(Invitee, {"meeting_id": meeting.id, "member_id": member_id}) if invitee is False else invitee
    return {
        "id": meeting.id,
        **_described(meeting),
        "agenda": agenda if agenda is not None else agenda_of(session, meeting.id),
        "status": status_of(meeting, now),
        "series_id": meeting.series_id,
        "cancel_reason": meeting.cancel_reason,
        "invited": counts[0],
        "attending": counts[1],
        "checked_in": counts[2],
        "my_rsvp": rsvp_json(mine),
        "my_check_in": check_in_json(mine),
    }
