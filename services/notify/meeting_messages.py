"""Meetings' events told to their invitees: invitation, change, cancellation, reminders (24 h, 1 h), minutes.
Plain Python. An inbox item per invitee and messages on the channels they keep on for `meetings`; never twice: the
handler runs once per event (db.once), each (event, member) is one inbox item and one delivery a channel, and a
reminder is keyed by meeting, lead and start, so even a second event for the same reminder tells nobody again."""

from marshmallow import EXCLUDE
from sqlalchemy import select

from shared.contracts import meetings as contract
from shared.contracts.members import DEPUTY_SECRETARY, SECRETARY, SIGN_IN_OPEN
from services.notify.domain import notify_member
from services.notify.models import Recipient, directory

KINDS = {
    "meetings.meeting_scheduled": "meeting_scheduled",
    "meetings.meeting_changed": "meeting_changed",
    "meetings.meeting_cancelled": "meeting_cancelled",
    "meetings.reminder_time_reached": "meeting_reminder",
    "meetings.minutes_published": "minutes_published",
}


def message_key(envelope, facts):
    """What makes a message once: the event, or for a reminder the meeting, the lead and the start it is for (a
    rescheduled meeting is reminded again)."""
    if envelope["type"] != "meetings.reminder_time_reached":
        return envelope["id"]
    return f"reminder:{facts['meeting_id']}:{facts['lead']}:{int(facts['starts_at'].timestamp())}"[:36]


def place(facts):
    where = [part for part in (facts.get("location"), facts.get("online_url")) if part]
    return " · ".join(where) or "—"


def tell_invitees(session, envelope):
    """Each invitee in the party, under a committee that uses Sổ tay (pilot or live), is told. Returns how many."""
    facts = contract.EVENTS[envelope["type"]].schema(unknown=EXCLUDE).load(envelope["payload"])
    kind = KINDS[envelope["type"]]
    if kind == "meeting_reminder":
        kind = f"meeting_reminder_{facts['lead']}"
    key = message_key(envelope, facts)
    values = {
        "title": facts["title"],
        "starts_at": facts["starts_at"],
        "place": place(facts),
        "reason": facts.get("reason") or "",
    }
    rolled_out = {}  # by organisation path: invitees are mostly of one branch
    told = 0
    for member_id in dict.fromkeys(facts["invitees"]):
        invitee = session.get(Recipient, member_id)
        if invitee is None or not invitee.in_party:
            continue
        path = invitee.organization_path
        if path not in rolled_out:
            rolled_out[path] = directory.rolled_out(session, path, SIGN_IN_OPEN)
        if rolled_out[path] and notify_member(session, key, member_id, kind, meeting_id=facts["meeting_id"], **values):
            told += 1
    return told


def tell_secretaries(session, envelope):
    """meetings.absences_flagged: an inbox item (no SMS: a matter for the next committee meeting, not tonight) for
    the secretary and deputy secretaries of the member's organisation. Returns how many were told."""
    facts = contract.AbsencesFlagged(unknown=EXCLUDE).load(envelope["payload"])
    member = session.get(Recipient, facts["member_id"])
    holders = session.scalars(
        select(directory.Position.member_id)
        .where(
            directory.Position.organization_id == facts["organization_id"],
            directory.Position.role.in_((SECRETARY, DEPUTY_SECRETARY)),
        )
        .order_by(directory.Position.member_id)
    ).all()
    if not directory.rolled_out(session, facts["organization_path"], SIGN_IN_OPEN):
        return 0
    values = {"member": (member.full_name if member else None) or f"#{facts['member_id']}", "count": facts["count"]}
    told = 0
    for holder in dict.fromkeys(holders):
        if holder != facts["member_id"] and notify_member(
            session, envelope["id"], holder, "absences_flagged", sms=False, **values
        ):
            told += 1
    return told
