"""meetings' contract: branch meetings, their events, bodies and errors."""

from marshmallow import Schema, fields, validate

from shared.contracts.common import Event

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


EVENTS = {
    "meetings.meeting_scheduled": Event(MeetingScheduled, "A meeting was scheduled; its invitees are named."),
    "meetings.meeting_changed": Event(MeetingChanged, "A scheduled meeting was rescheduled or changed."),
    "meetings.meeting_cancelled": Event(MeetingCancelled, "A meeting was cancelled, with the reason."),
    "meetings.reminder_time_reached": Event(ReminderTimeReached, "A meeting starts in 24 hours or in 1 hour."),
    "meetings.member_checked_in": Event(MemberCheckedIn, "A member checked in to a meeting (once per member)."),
    "meetings.vote_closed": Event(VoteClosed, "A vote closed; its results (never who chose what)."),
    "meetings.minutes_published": Event(MinutesPublished, "A meeting's minutes were published to its invitees."),
}
