"""Answers (RSVP) and check-ins.

Check-in codes are TOTP (RFC 6238: HMAC-SHA1 over the 30-second step, dynamic truncation to 6 digits), written
here in a few lines with hmac rather than a dependency, keyed by the meeting's own random secret: the code on the
secretary's screen changes every 30 s and says nothing about any other meeting. A code is accepted for the step
of the moment it is given and one step either side (the time to scan it, clocks a little apart).
"""

import hashlib
import hmac
import struct
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, select, update

from shared.contracts.meetings import ABSENCE_THRESHOLD, CheckInClosed, CheckInCodeInvalid, MeetingClosed
from shared.db import aware, utcnow
from shared.errors import NotFound, ValidationError
from services.meetings.access import MEETING_COLUMNS, invitation, meeting_for, meeting_run_by, oversees, positions
from services.meetings.domain import check_in_json, rsvp_json, status_of, updated
from services.meetings.models import Invitee, Meeting, directory
from services.meetings.totals import late_check_in

# The check-in's statements, built once on the tables: a meeting's members check in within minutes, thousands at a
# time, and a statement built (and keyed for SQLAlchemy's cache) per call, as an ORM get is, cost most of the
# check-in's time in a profile of the burst (bench/README.md).
_meetings, _invitees = Meeting.__table__, Invitee.__table__
INVITATION = (
    select(
        *(_meetings.c[name] for name in MEETING_COLUMNS),
        *(_invitees.c[name] for name in ("member_id", "checked_in_at", "late", "check_in_method")),
    )
    .join_from(_meetings, _invitees, _invitees.c.meeting_id == _meetings.c.id)
    .where(_meetings.c.id == bindparam("meeting"), _invitees.c.member_id == bindparam("member"))
)
# only the first check-in writes (a concurrent one finds the row taken), so one event per member
FIRST_CHECK_IN = (
    update(_invitees)
    .where(
        _invitees.c.meeting_id == bindparam("meeting"),
        _invitees.c.member_id == bindparam("member"),
        _invitees.c.checked_in_at.is_(None),
    )
    .values(
        checked_in_at=bindparam("at"),
        check_in_method=bindparam("method"),
        late=bindparam("is_late"),
        checked_in_by=bindparam("by"),
    )  # fmt: skip
)

STEP = 30  # seconds a code lives
DIGITS = 6
OPENS_BEFORE = timedelta(minutes=30)
LATE_AFTER = timedelta(minutes=15)


def code_at(secret, moment):
    """The meeting's code for the 30-second step holding `moment` (RFC 6238 with SHA-1)."""
    counter = int(moment.timestamp()) // STEP
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**DIGITS:0{DIGITS}d}"


def code_valid(secret, code, moment):
    return any(
        hmac.compare_digest(code_at(secret, moment + timedelta(seconds=STEP * shift)), code) for shift in (-1, 0, 1)
    )


def window(meeting):
    """From 30 minutes before the start (or when an officer opened it, if earlier) to the end."""
    opens = aware(meeting.starts_at) - OPENS_BEFORE
    if meeting.started_at is not None:
        opens = min(opens, aware(meeting.started_at))
    return opens, aware(meeting.ends_at)


def in_window(meeting, moment):
    opens, closes = window(meeting)
    return (
        opens <= moment <= closes
        and meeting.status != "cancelled"
        and (meeting.closed_at is None or moment <= aware(meeting.closed_at))
    )


def current_code(session, member_id, meeting_id, now=None):
    """The code to show (as a QR code) while check-in is open: the meeting's runners only."""
    now = now or utcnow()
    meeting = meeting_run_by(session, member_id, meeting_id)
    if not in_window(meeting, now):
        raise CheckInClosed()
    code = code_at(meeting.secret, now)
    expires = datetime.fromtimestamp((int(now.timestamp()) // STEP + 1) * STEP, UTC)
    return {"code": code, "expires_at": expires.isoformat(), "qr": f"sotay:checkin:{meeting.id}:{code}"}


def check_in(unit, member_id, meeting_id, data, now=None):
    """An invitee with the code (`at`: scanned earlier without signal), or a runner for `member_id`. One per
    member: a repeat answers the first. Returns (answer, created)."""
    now = now or utcnow()
    session = unit.session
    if data.get("member_id") is not None:  # a runner records a member's check-in (their own too)
        access = meeting_for(session, member_id, meeting_id).require_run()
        meeting = access.meeting
        invitee = invitation(session, meeting.id, data["member_id"])
        if invitee is None:
            raise NotFound(message="Người này không được mời. / This member is not invited.")
        moment, method = now, "officer"
    else:
        # the burst's path: an invitee sees the meeting whatever positions they hold, so the meeting and the
        # invitation (one statement) are all there is to read; anyone else is answered (404 or 403) by the full
        # access check
        meeting = invitee = session.execute(INVITATION, {"meeting": meeting_id, "member": member_id}).first()
        if invitee is None:
            access = meeting_for(session, member_id, meeting_id)
            meeting, invitee = access.meeting, access.require_invitee()
        if invitee.checked_in_at is not None:
            return check_in_json(invitee), False
        if not data.get("code"):
            raise ValidationError(details={"code": ["Cần mã điểm danh. / The check-in code is required."]})
        moment, method = (data.get("at") or now).astimezone(UTC), "code"
        if moment > now + timedelta(seconds=5):
            raise ValidationError(details={"at": ["Thời điểm chưa tới. / A time in the future."]})
    if invitee.checked_in_at is not None:
        return check_in_json(invitee), False
    if not in_window(meeting, moment):
        raise CheckInClosed()
    if method == "code" and not code_valid(meeting.secret, data["code"], moment):
        raise CheckInCodeInvalid()
    late = moment > aware(meeting.starts_at) + LATE_AFTER
    key = {"meeting": meeting.id, "member": invitee.member_id}
    by = member_id if method == "officer" else None
    if not session.execute(FIRST_CHECK_IN, {**key, "at": moment, "method": method, "is_late": late, "by": by}).rowcount:
        return check_in_json(session.execute(INVITATION, key).first()), False
    late_check_in(session, meeting)
    unit.publish(
        "meetings.member_checked_in",
        {
            "meeting_id": meeting.id,
            "organization_id": meeting.organization_id,
            "member_id": invitee.member_id,
            "checked_in_at": moment.astimezone(UTC).isoformat(),
            "late": late,
            "method": method,
        },
    )
    # the row as just written (no read back): what check_in_json gives for it
    return {"member_id": invitee.member_id, "checked_in_at": moment.astimezone(UTC).isoformat(), "late": late,
            "method": method}, True  # fmt: skip


def answer(unit, member_id, meeting_id, data, now=None):
    """Attending, or absent with a reason; changeable until the meeting starts. A runner may record the answer of
    a member who cannot use the app (`member_id`): it says who recorded it."""
    now = now or utcnow()
    session = unit.session
    access = meeting_for(session, member_id, meeting_id)
    if data.get("member_id") is not None and data["member_id"] != member_id:
        access.require_run()
        invitee = invitation(session, access.meeting.id, data["member_id"])
        if invitee is None:
            raise NotFound(message="Người này không được mời. / This member is not invited.")
        recorded_by = member_id
    else:
        invitee, recorded_by = access.require_invitee(), None
    if data["response"] == "absent" and not (data.get("reason") or "").strip():
        raise ValidationError(details={"reason": ["Cần lý do vắng mặt. / A reason for the absence is required."]})
    if status_of(access.meeting, now) != "scheduled":
        raise MeetingClosed()
    invitee.rsvp = data["response"]
    invitee.rsvp_reason = data.get("reason") if data["response"] == "absent" else None
    invitee.rsvp_recorded_by = recorded_by
    invitee.rsvp_at = now
    session.flush()
    updated(unit, access.meeting)  # its counts in every invitee's list
    return rsvp_json(invitee)


def my_attendance(session, member_id, data, now=None):
    """The member's meetings that took place between `from` (default a year ago) and `to` (default now), newest
    first: attended (checked in) or missed, and whether an absence had its reason. Counted on request: a member's
    year is a dozen or two rows (an organisation's report keeps running totals instead)."""
    now = now or utcnow()
    until = (data.get("to") or now).astimezone(UTC)
    since = (data.get("from") or until - timedelta(days=365)).astimezone(UTC)
    began = func.coalesce(Meeting.started_at, Meeting.starts_at)  # an officer may open it before its time
    rows = session.execute(
        select(Invitee, Meeting)
        .join(Meeting, Meeting.id == Invitee.meeting_id)
        .where(
            Invitee.member_id == member_id,
            began >= since,
            began < until,
            Meeting.status != "cancelled",
        )
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    ).all()
    items = [
        {
            "meeting_id": meeting.id,
            "organization_id": meeting.organization_id,
            "title": meeting.title,
            "kind": meeting.kind,
            "starts_at": aware(meeting.starts_at).isoformat(),
            "attended": invitee.checked_in_at is not None,
            "late": bool(invitee.late),
            "excused": invitee.checked_in_at is None and invitee.rsvp == "absent",
        }
        for invitee, meeting in rows
        if status_of(meeting, now) == "closed"
    ]
    attended = sum(item["attended"] for item in items)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "meetings": len(items),
        "attended": attended,
        "excused": sum(item["excused"] for item in items),
        "missed": len(items) - attended,
        "items": items,
    }


def absentees(session, member_id, organization_id, now=None):
    """Members absent without a reason (not checked in, no absence with its reason) from the organisation's regular
    meetings at least ABSENCE_THRESHOLD times in the last twelve months: for its officers and those above. Counted
    on request over one organisation's own meetings (a dozen a year, its invitees)."""
    now = now or utcnow()
    organization = session.get(directory.Organization, organization_id)
    if organization is None or not oversees(positions(session, member_id), organization.path):
        raise NotFound()
    since = now - timedelta(days=365)
    meetings = [
        meeting
        for meeting in session.scalars(
            select(Meeting).where(
                Meeting.organization_id == organization.id,
                Meeting.kind == "regular",
                Meeting.starts_at >= since,
                Meeting.status != "cancelled",
            )
        )
        if status_of(meeting, now) == "closed"
    ]
    missed = defaultdict(list)
    for invitee in session.scalars(
        select(Invitee)
        .where(Invitee.meeting_id.in_([m.id for m in meetings]), Invitee.checked_in_at.is_(None))
        .order_by(Invitee.meeting_id)
    ):
        if not (invitee.rsvp == "absent" and invitee.rsvp_reason):
            missed[invitee.member_id].append(invitee.meeting_id)
    flagged = {who: ids for who, ids in missed.items() if len(ids) >= ABSENCE_THRESHOLD}
    names = dict(
        session.execute(
            select(directory.Membership.member_id, directory.Membership.full_name).where(
                directory.Membership.member_id.in_(flagged)
            )
        ).all()
    )
    return {
        "organization_id": organization.id,
        "since": since.isoformat(),
        "threshold": ABSENCE_THRESHOLD,
        "items": [
            {"member_id": who, "full_name": names.get(who), "absences": len(ids), "meeting_ids": ids}
            for who, ids in sorted(flagged.items())
        ],
    }
