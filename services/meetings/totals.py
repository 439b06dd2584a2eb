"""Attendance kept as running totals (shared/tallies.py): meetings held, members invited, members checked in, per
organisation subtree and Vietnamese month; and members absent without a reason flagged to their secretary.

A meeting counts once it is held: closed (by an officer, or by its end passing), never cancelled. It is counted
once, by whoever claims it first (the officer closing it, or the scheduler noticing its end): a conditional UPDATE of
`meetings.counted_at`, in the transaction that adds its figures and publishes the flags. It adds to the month of its
start in Vietnam and to its organisation (and those above): a member's attendance stays with the branch they
attended, so a member who moves takes nothing with them (an organisation that moves takes its totals along: the
directory's tally follows it).

A check-in that arrives after the count (scanned without signal, sent once back in range, valid at `at`) adds itself:
the count reads the invitees FOR UPDATE, so a check-in being written is either waited for and counted there, or waits
and then finds the meeting counted and adds its own 1. Answers cannot change after the start, so nothing else moves.
"""

from collections import defaultdict
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, not_, or_, select, update

from shared.contracts.meetings import ABSENCE_THRESHOLD
from shared.db import aware, utcnow
from shared.errors import NotFound, ValidationError
from services.meetings.access import oversees, path_of, positions
from services.meetings.models import Invitee, Meeting, attendance_totals, directory

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = timedelta(days=365)


def month_of(moment):
    """The Vietnamese month ("2026-11") of an aware UTC time."""
    return aware(moment).astimezone(VIETNAM).strftime("%Y-%m")


def excused():
    """Absent with a reason given (the answer freezes at the start)."""
    # never NULL (no answer is "not excused"), so NOT of it means what it says
    return and_(func.coalesce(Invitee.rsvp, "") == "absent", func.length(func.coalesce(Invitee.rsvp_reason, "")) > 0)


def count_meeting(unit, meeting_id, now=None):
    """Add a held meeting to the totals, once; returns whether this call counted it."""
    now = now or utcnow()
    session = unit.session
    claimed = session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id, Meeting.counted_at.is_(None), Meeting.status != "cancelled")
        .where(or_(Meeting.status == "closed", Meeting.ends_at <= now))
        .values(counted_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return False
    meeting = session.get(Meeting, meeting_id)
    session.refresh(meeting)
    invitees = session.execute(
        select(Invitee.member_id, Invitee.checked_in_at.is_not(None), excused())
        .where(Invitee.meeting_id == meeting_id)
        .with_for_update()
    ).all()
    path = path_of(session, meeting)
    attendance_totals.add(
        session,
        month_of(meeting.starts_at),
        meeting.organization_id,
        path,
        meetings=1,
        invited=len(invitees),
        attended=sum(1 for _, present, _ in invitees if present),
    )
    if meeting.kind == "regular":
        _flag_absences(unit, meeting, [who for who, present, reason in invitees if not present and not reason])
    return True


def count_due(unit, now=None, limit=500):
    """One pass of the scheduler: meetings whose end has passed (or closed early) and not yet counted."""
    now = now or utcnow()
    with unit.transaction() as session:
        due = session.scalars(
            select(Meeting.id)
            .where(Meeting.counted_at.is_(None), Meeting.status != "cancelled")
            .where(or_(Meeting.ends_at <= now, Meeting.status == "closed"))
            .order_by(Meeting.ends_at)
            .limit(limit)
        ).all()
    counted = 0
    for meeting_id in due:
        with unit.transaction():
            counted += count_meeting(unit, meeting_id, now)
    return counted


# built once: every check-in of a burst asks it (attendance.INVITATION says why)
COUNTED_AT = select(Meeting.__table__.c.counted_at).where(Meeting.__table__.c.id == bindparam("meeting"))


def late_check_in(session, meeting):
    """A check-in written after its meeting was counted adds itself (read afresh: the count may have committed
    while this check-in waited for the invitee's row)."""
    counted = session.execute(COUNTED_AT, {"meeting": meeting.id}).scalar()
    if counted is None:
        return False
    path = path_of(session, meeting)
    attendance_totals.add(session, month_of(meeting.starts_at), meeting.organization_id, path, attended=1)
    return True


def _flag_absences(unit, meeting, missed):
    """Members whose unexcused absences from regular meetings in the twelve months up to this one reach the
    threshold with this one: flagged once per crossing (a fourth absence is no new crossing; after falling back
    below, reaching it again is)."""
    if not missed:
        return
    session = unit.session
    start = aware(meeting.starts_at)
    rows = session.execute(
        select(Invitee.member_id, Meeting.id)
        .join(Meeting, Meeting.id == Invitee.meeting_id)
        .where(
            Invitee.member_id.in_(missed),
            Invitee.checked_in_at.is_(None),
            not_(excused()),
            Meeting.kind == "regular",
            Meeting.counted_at.is_not(None),
            Meeting.starts_at > (start - YEAR).astimezone(UTC),
            Meeting.starts_at <= start.astimezone(UTC),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    absences = defaultdict(list)
    for member_id, meeting_id in rows:
        absences[member_id].append(meeting_id)
    members = {
        row.member_id: row
        for row in session.scalars(select(directory.Membership).where(directory.Membership.member_id.in_(absences)))
    }
    for member_id, meeting_ids in sorted(absences.items()):
        member = members.get(member_id)
        if len(meeting_ids) != ABSENCE_THRESHOLD or member is None or not member.in_party:
            continue
        unit.publish(
            "meetings.absences_flagged",
            {
                "member_id": member_id,
                "organization_id": member.organization_id,
                "organization_path": member.organization_path,
                "count": len(meeting_ids),
                "meeting_ids": meeting_ids,
                "since": (start - YEAR).astimezone(UTC).isoformat(),
            },
        )


# --- the report ------------------------------------------------------------------------------------------------


def report(session, member_id, organization_id, data, now=None):
    """Figures of the organisation's subtree and of each child for a month (or a year): its officers and those
    above only (404 for anyone else). The gateway names the children, adds the zeros and the rates."""
    organization = session.get(directory.Organization, organization_id)
    if organization is None or not oversees(positions(session, member_id), organization.path):
        raise NotFound()
    month, months = period(data, now)
    answer = attendance_totals.report(session, months if len(months) > 1 else months[0], organization.path)
    return {**answer, "month": month}


def period(data, now=None):
    """(what the report is about, the months summed): `month=YYYY-MM`, `year=YYYY`, or this Vietnamese month."""
    if data.get("month") and data.get("year"):
        raise ValidationError(details={"year": ["Chọn tháng hoặc năm. / Either a month or a year."]})
    if data.get("year"):
        year = data["year"]
        return str(year), [f"{year}-{month:02d}" for month in range(1, 13)]
    month = data.get("month") or month_of(now or utcnow())
    return month, [month]
