"""meetings' contract: branch meetings, their events, bodies and errors."""

from marshmallow import Schema, fields, validate

from shared.contracts.common import Event, JsonBoolean, JsonDateTime, page
from shared.contracts.content import Attachment
from shared.errors import SotayError
from shared.validation import StoredInteger, Strict

KINDS = ("regular", "thematic", "extraordinary", "committee")
MEETING_STATUSES = ("scheduled", "in_progress", "closed", "cancelled")
REMINDER_LEADS = ("24h", "1h")


class MeetingFacts(Schema):
    """What a subscriber needs to tell the invitees about a meeting (notify's messages)."""

    meeting_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    organization_path = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    location = fields.String(allow_none=True, load_default=None)
    online_url = fields.String(allow_none=True, load_default=None)
    # the members invited as of this event (a branch's members, a committee): whom to tell
    invitees = fields.List(fields.Integer(), required=True)


class MeetingScheduled(MeetingFacts):
    pass


class MeetingChanged(MeetingFacts):
    """Rescheduled or moved (time, place, link or agenda): the new state."""

    changed = fields.List(fields.String(), load_default=list)


class MeetingCancelled(MeetingFacts):
    reason = fields.String(required=True)


class ReminderTimeReached(MeetingFacts):
    """24 hours or 1 hour before the start (meetings sends each once per meeting and lead)."""

    lead = fields.String(required=True, validate=validate.OneOf(REMINDER_LEADS))


class MemberCheckedIn(Schema):
    meeting_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    checked_in_at = fields.AwareDateTime(required=True)
    late = fields.Boolean(required=True)
    # "code" (the member scanned or typed it) or "officer" (recorded for the member)
    method = fields.String(required=True, validate=validate.OneOf(("code", "officer")))


class MeetingUpdated(Schema):
    """What a meeting shows changed with no news for its invitees (an answer, so its counts; opened or closed by an
    officer; an invitee added or taken away as the directory changed or by an erasure; a paper's new title taken
    when its agenda was saved again; on its screen: a vote opened or closed, an opinion added, edited, pinned or
    hidden — not a ballot, which changes only its voter's screen): for those who keep what they read of it (the
    gateway's known versions of lists and meetings); nobody is told."""

    meeting_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    member_ids = fields.List(
        fields.Integer(),
        load_default=list,
        metadata={"description": "members invited or no longer invited as the directory changed (their own lists)"},
    )


class VoteClosed(Schema):
    vote_id = fields.Integer(required=True)
    meeting_id = fields.Integer(required=True)
    question = fields.String(required=True)
    secret = fields.Boolean(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    eligible = fields.Integer(required=True)
    cast = fields.Integer(required=True)
    present = fields.Integer(required=True)
    quorum_met = fields.Boolean(required=True)


class MinutesPublished(MeetingFacts):
    resolutions = fields.List(fields.String(), load_default=list)
    document_ids = fields.List(
        fields.Integer(),
        load_default=list,
        metadata={"description": "content's documents published with the minutes (read through the meeting)"},
    )


class AbsencesFlagged(Schema):
    """A member reached three absences without a reason from regular meetings in twelve months (the Party
    Charter's threshold for review) with the meeting just closed: once per crossing, for their secretary."""

    member_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True, metadata={"description": "the member's organisation now"})
    organization_path = fields.String(required=True)
    count = fields.Integer(required=True)
    meeting_ids = fields.List(fields.Integer(), required=True, metadata={"description": "oldest first"})
    since = fields.AwareDateTime(required=True, metadata={"description": "the twelve months counted start here"})


EVENTS = {
    "meetings.meeting_scheduled": Event(MeetingScheduled, "A meeting was scheduled; its invitees are named."),
    "meetings.meeting_changed": Event(MeetingChanged, "A scheduled meeting was rescheduled or changed."),
    "meetings.meeting_cancelled": Event(MeetingCancelled, "A meeting was cancelled, with the reason."),
    "meetings.reminder_time_reached": Event(ReminderTimeReached, "A meeting starts in 24 hours or in 1 hour."),
    "meetings.member_checked_in": Event(MemberCheckedIn, "A member checked in to a meeting (once per member)."),
    "meetings.meeting_updated": Event(
        MeetingUpdated, "What a meeting shows changed (an answer, opened, closed; a vote, an opinion)."
    ),
    "meetings.vote_closed": Event(VoteClosed, "A vote closed; its results (never who chose what)."),
    "meetings.minutes_published": Event(MinutesPublished, "A meeting's minutes were published to its invitees."),
    "meetings.absences_flagged": Event(
        AbsencesFlagged, "A member was absent without a reason from three regular meetings in twelve months."
    ),
}


# Vocabulary

RSVP_RESPONSES = ("attending", "absent")
ELIGIBILITY = ("official", "all")
DEFAULT_OPTIONS = ("agree", "disagree", "abstain")
VOTE_STATUSES = ("open", "closed")
CHECK_IN_METHODS = ("code", "officer")


# Errors (the gateway rebuilds them by class name: names unique across the contracts)


class CheckInCodeInvalid(SotayError):
    status = 400
    code = "invalid_code"
    message = "Mã điểm danh không đúng hoặc đã hết hạn. / The check-in code is wrong or expired."


class CheckInClosed(SotayError):
    status = 409
    code = "check_in_closed"
    message = (
        "Chỉ điểm danh từ 30 phút trước giờ họp đến khi kết thúc. / "
        "Check-in is open from 30 minutes before the start to the end."
    )


class AlreadyVoted(SotayError):
    status = 409
    code = "already_voted"
    message = "Bạn đã biểu quyết. / You have already voted."


class MeetingClosed(SotayError):
    status = 409
    code = "meeting_closed"
    message = (
        "Cuộc họp đã bắt đầu, kết thúc hoặc bị huỷ: không thể thay đổi. / "
        "The meeting has started, ended or been cancelled: this can no longer change."
    )


class VoteClosedError(SotayError):
    status = 409
    code = "vote_closed"
    message = "Biểu quyết đã kết thúc. / The vote is closed."


class EditWindowPassed(SotayError):
    status = 409
    code = "edit_window_passed"
    message = "Chỉ sửa được ý kiến trong 5 phút. / An opinion can be edited for 5 minutes only."


# Request bodies and queries

TITLE = validate.Length(min=1, max=255)
TEXT = validate.Length(min=1, max=10_000)
LINK = [
    validate.Length(max=2000),
    validate.Regexp(r"^https?://[^\s]+$", error="Một đường dẫn http(s)://… / An http(s):// link."),
]
HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="Giờ dạng HH:MM. / A time as HH:MM.")


class AgendaItemIn(Strict):
    title = fields.String(required=True, validate=TITLE)
    document_ids = fields.List(
        StoredInteger(validate=validate.Range(min=1)), load_default=list, validate=validate.Length(max=50)
    )


class Repeat(Strict):
    """A regular meeting every month: `day` of the month (the month's last day when it has fewer) at `time`,
    Vietnam time."""

    day = StoredInteger(required=True, validate=validate.Range(min=1, max=31))
    time = fields.String(required=True, validate=HHMM, metadata={"example": "19:30"})


class MeetingCreate(Strict):
    title = fields.String(required=True, validate=TITLE)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    starts_at = fields.AwareDateTime(required=True, metadata={"example": "2026-12-05T19:30:00+07:00"})
    ends_at = fields.AwareDateTime(required=True, metadata={"example": "2026-12-05T21:30:00+07:00"})
    location = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    online_url = fields.String(load_default=None, allow_none=True, validate=LINK)
    agenda = fields.List(fields.Nested(AgendaItemIn), load_default=list, validate=validate.Length(max=50))
    repeat = fields.Nested(Repeat, load_default=None, allow_none=True)


class MeetingUpdate(Strict):
    title = fields.String(validate=TITLE)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    location = fields.String(allow_none=True, validate=validate.Length(max=500))
    online_url = fields.String(allow_none=True, validate=LINK)
    agenda = fields.List(fields.Nested(AgendaItemIn), validate=validate.Length(max=50))


class Cancellation(Strict):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=2000)])


# "from" is a Python keyword: the query's fields by their wire names
MeetingQuery = Strict.from_dict(
    {
        "from": fields.AwareDateTime(load_default=None, metadata={"description": "meetings starting from"}),
        "to": fields.AwareDateTime(load_default=None, metadata={"description": "meetings starting before"}),
        "cursor": fields.String(load_default=None, validate=validate.Length(max=512)),
        "limit": StoredInteger(load_default=50, validate=validate.Range(min=1, max=200)),
    },
    name="MeetingQuery",
)


class PageQuery(Strict):
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))
    limit = StoredInteger(load_default=50, validate=validate.Range(min=1, max=200))


class RsvpIn(Strict):
    response = fields.String(required=True, validate=validate.OneOf(RSVP_RESPONSES))
    reason = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=2000)])
    member_id = StoredInteger(
        load_default=None, allow_none=True, metadata={"description": "an officer records the answer for this member"}
    )


class CheckInIn(Strict):
    code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9]{6}$"))
    at = fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "when a check-in made offline was scanned"}
    )
    member_id = StoredInteger(
        load_default=None, allow_none=True, metadata={"description": "an officer checks this member in"}
    )


class OpinionIn(Strict):
    body = fields.String(required=True, validate=TEXT)
    agenda_item_id = StoredInteger(load_default=None, allow_none=True)
    reply_to = StoredInteger(load_default=None, allow_none=True)


class OpinionEdit(Strict):
    body = fields.String(required=True, validate=TEXT)


class VoteIn(Strict):
    question = fields.String(required=True, validate=[validate.Length(min=1, max=2000)])
    secret = JsonBoolean(load_default=False)
    eligible = fields.String(load_default="official", validate=validate.OneOf(ELIGIBILITY))
    options = fields.List(
        fields.String(validate=[validate.Length(min=1, max=200)]),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=2, max=20),
    )


class BallotIn(Strict):
    choice = fields.String(required=True, validate=validate.Length(min=1, max=200))


class MinutesIn(Strict):
    body = fields.String(required=True, validate=[validate.Length(min=1, max=100_000)])
    resolutions = fields.List(
        fields.String(validate=[validate.Length(min=1, max=5000)]), load_default=list, validate=validate.Length(max=100)
    )
    document_ids = fields.List(
        StoredInteger(validate=validate.Range(min=1)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={
            "description": "content's published documents to go with the minutes (the resolution, its files "
            "attached to it): each must reach the meeting's organisation or be in the publisher's charge"
        },
    )


# What the gateway answers


class Paper(Schema):
    """A content document that is the meeting's: everyone who sees the meeting reads it at
    /meetings/{meeting_id}/papers/{id}."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)


class AgendaItem(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    document_ids = fields.List(fields.Integer(), required=True)
    papers = fields.List(
        fields.Nested(Paper),
        required=True,
        metadata={"description": "the documents with their titles when the agenda was set ([] if set before)"},
    )


class Rsvp(Schema):
    response = fields.String(required=True, validate=validate.OneOf(RSVP_RESPONSES))
    reason = fields.String(required=True, allow_none=True)
    recorded_by = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "the officer who recorded it (assisted use), else null"},
    )
    answered_at = JsonDateTime(required=True)


class CheckIn(Schema):
    member_id = fields.Integer(required=True)
    checked_in_at = JsonDateTime(required=True)
    late = fields.Boolean(required=True)
    method = fields.String(required=True, validate=validate.OneOf(CHECK_IN_METHODS))


class Meeting(Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    starts_at = JsonDateTime(required=True)
    ends_at = JsonDateTime(required=True)
    location = fields.String(required=True, allow_none=True)
    online_url = fields.String(required=True, allow_none=True)
    agenda = fields.List(fields.Nested(AgendaItem), required=True)
    status = fields.String(required=True, validate=validate.OneOf(MEETING_STATUSES))
    series_id = fields.Integer(required=True, allow_none=True, metadata={"description": "a repeating meeting's"})
    cancel_reason = fields.String(required=True, allow_none=True)
    invited = fields.Integer(required=True)
    attending = fields.Integer(required=True)
    checked_in = fields.Integer(required=True)
    my_rsvp = fields.Nested(Rsvp, required=True, allow_none=True)
    my_check_in = fields.Nested(CheckIn, required=True, allow_none=True)
    activity = fields.String(
        metadata={
            "description": "GET /meetings/{id} only: changes whenever its votes, opinions or minutes change as the "
            "caller sees them (read those again then)"
        }
    )


MeetingPage = page(Meeting, "MeetingPage")


class Invitee(Schema):
    member_id = fields.Integer(required=True)
    full_name = fields.String(required=True, allow_none=True)
    rsvp = fields.Nested(Rsvp, required=True, allow_none=True)
    check_in = fields.Nested(CheckIn, required=True, allow_none=True)


InviteePage = page(Invitee, "InviteePage")


class CheckInCode(Schema):
    code = fields.String(required=True, metadata={"example": "492039"})
    expires_at = JsonDateTime(required=True)
    qr = fields.String(required=True, metadata={"description": "what the QR code carries: sotay:checkin:<id>:<code>"})


class CheckInCodeShown(CheckInCode):
    """What the gateway answers: the code and its QR code drawn, so a screen needs no encoder of its own."""

    image = fields.String(
        required=True, metadata={"description": "the QR code of `qr` as an SVG image, a `data:image/svg+xml` URI"}
    )


class Opinion(Schema):
    id = fields.Integer(required=True)
    meeting_id = fields.Integer(required=True)
    agenda_item_id = fields.Integer(required=True, allow_none=True)
    reply_to = fields.Integer(required=True, allow_none=True)
    member_id = fields.Integer(required=True)
    full_name = fields.String(required=True, allow_none=True)
    body = fields.String(required=True, allow_none=True, metadata={"description": "null once hidden"})
    created_at = JsonDateTime(required=True)
    edited_at = JsonDateTime(required=True, allow_none=True)
    pinned = fields.Boolean(required=True)
    hidden = fields.Boolean(required=True)
    hidden_by = fields.Integer(required=True, allow_none=True)


OpinionPage = page(Opinion, "OpinionPage")


class Results(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    eligible = fields.Integer(required=True)
    cast = fields.Integer(required=True)
    present = fields.Integer(required=True)
    quorum_met = fields.Boolean(required=True)


class Vote(Schema):
    id = fields.Integer(required=True)
    meeting_id = fields.Integer(required=True)
    question = fields.String(required=True)
    secret = fields.Boolean(required=True)
    eligible = fields.String(required=True, validate=validate.OneOf(ELIGIBILITY))
    options = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(VOTE_STATUSES))
    results = fields.Nested(Results, required=True, allow_none=True)
    my_ballot_cast = fields.Boolean(required=True)


VotePage = page(Vote, "VotePage")


class BallotCast(Schema):
    vote_id = fields.Integer(required=True)
    cast = fields.Boolean(required=True)


class MinutesPaper(Paper):
    """A document published with the minutes, as it was then."""

    attachments = fields.List(fields.Nested(Attachment), required=True)


class Minutes(Schema):
    meeting_id = fields.Integer(required=True)
    body = fields.String(required=True)
    resolutions = fields.List(fields.String(), required=True)
    papers = fields.List(fields.Nested(MinutesPaper), required=True)
    published_by = fields.Integer(required=True)
    published_at = JsonDateTime(required=True)


AttendanceQuery = Strict.from_dict(
    {
        "from": fields.AwareDateTime(load_default=None, metadata={"description": "default: twelve months ago"}),
        "to": fields.AwareDateTime(load_default=None, metadata={"description": "default: now"}),
    },
    name="AttendanceQuery",
)


MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Tháng dạng YYYY-MM. / A month as YYYY-MM.")
AttendanceReportQuery = Strict.from_dict(
    {
        "month": fields.String(load_default=None, validate=MONTH, metadata={"description": "default: this month"}),
        "year": StoredInteger(
            load_default=None,
            validate=validate.Range(min=2000, max=2100),
            metadata={"description": "the twelve months of a year, instead of one month"},
        ),
    },
    name="AttendanceReportQuery",
)


class AttendanceEntry(Schema):
    meeting_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    starts_at = JsonDateTime(required=True)
    attended = fields.Boolean(required=True)
    late = fields.Boolean(required=True)
    excused = fields.Boolean(required=True, metadata={"description": "absent with a reason given"})


class MyAttendance(Schema):
    """The caller's meetings that took place in the period: attended, or missed (excused: with a reason)."""

    since = JsonDateTime(required=True)
    until = JsonDateTime(required=True)
    meetings = fields.Integer(required=True)
    attended = fields.Integer(required=True)
    excused = fields.Integer(required=True)
    missed = fields.Integer(required=True, metadata={"description": "not checked in, excused or not"})
    items = fields.List(fields.Nested(AttendanceEntry), required=True)


ABSENCE_THRESHOLD = 3  # the Party Charter: absent without a reason three times in twelve months calls for review


class Absentee(Schema):
    member_id = fields.Integer(required=True)
    full_name = fields.String(required=True, allow_none=True)
    absences = fields.Integer(required=True)
    meeting_ids = fields.List(fields.Integer(), required=True)


class Absentees(Schema):
    """Members absent without a reason from the organisation's regular meetings at least three times in the twelve
    months up to now."""

    organization_id = fields.Integer(required=True)
    since = JsonDateTime(required=True)
    threshold = fields.Integer(required=True)
    items = fields.List(fields.Nested(Absentee), required=True)
