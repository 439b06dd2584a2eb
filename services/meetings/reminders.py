"""Reminders 24 hours and 1 hour before a meeting: `meetings.reminder_time_reached`, which notify turns into
messages. Each (meeting, lead) is claimed by a conditional UPDATE of its column (`reminded_24h_at`,
`reminded_1h_at`) in the transaction that writes the event to the outbox: sent once, whichever replica's scheduler
gets there first. A meeting scheduled less than an hour ahead gets the 1 h reminder only (its 24 h one is marked
passed, not sent)."""

from datetime import timedelta

from sqlalchemy import or_, select, update

from shared.db import aware, utcnow
from services.meetings.domain import facts
from services.meetings.models import Meeting

LEADS = {"24h": (timedelta(hours=24), Meeting.reminded_24h_at), "1h": (timedelta(hours=1), Meeting.reminded_1h_at)}


def _claim(session, meeting_id, column, now):
    return session.execute(
        update(Meeting).where(Meeting.id == meeting_id, column.is_(None)).values({column: now})
    ).rowcount


def send_due(unit, now=None, limit=200):
    """One pass: every meeting whose reminder is due and not yet sent; returns the reminders published."""
    now = now or utcnow()
    with unit.transaction() as session:
        due = session.scalars(
            select(Meeting.id)
            .where(
                Meeting.status == "scheduled",
                Meeting.starts_at > now,
                or_(*((Meeting.starts_at <= now + lead) & column.is_(None) for lead, column in LEADS.values())),
            )
            .order_by(Meeting.starts_at)
            .limit(limit)
        ).all()
    sent = 0
    for meeting_id in due:
        with unit.transaction() as session:
            meeting = session.get(Meeting, meeting_id)
            # the shortest lead already due is the one worth telling; longer ones are passed
            due_leads = [name for name, (lead, _) in LEADS.items() if aware(meeting.starts_at) <= now + lead]
            tell = min(due_leads, key=lambda name: LEADS[name][0])
            for name in due_leads:
                if _claim(session, meeting.id, LEADS[name][1], now) and name == tell:
                    unit.publish("meetings.reminder_time_reached", facts(session, meeting, lead=name))
                    sent += 1
    return sent
