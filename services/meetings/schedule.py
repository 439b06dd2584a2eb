"""Monthly repeats of a regular meeting: `{"day": 5, "time": "19:30"}` is the 5th of every month at 19:30
Vietnam time (the month's last day when it has no 5th… no 31st). Occurrences are ordinary meetings, made ahead
up to REPEAT_AHEAD (three months: the months a branch plans, not a year of rows for 10^5 branches); the
scheduler's pass (reminders.py) rolls every series forward, so a series always has that much ahead."""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from shared import config
from shared.db import aware
from services.meetings.models import AgendaItem, Meeting, Series, directory

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def repeat_ahead():
    return timedelta(days=float(config.get("MEETINGS_REPEAT_AHEAD_DAYS", 92)))


def occurrence_after(previous, day, at):
    """The first day-`day`-at-`at` (Vietnam time) after the moment `previous`, as UTC."""
    local = previous.astimezone(VIETNAM)
    year, month = local.year, local.month
    hour, minute = map(int, at.split(":"))
    while True:
        last_day = calendar.monthrange(year, month)[1]
        candidate = datetime.combine(date(year, month, min(day, last_day)), time(hour, minute), VIETNAM).astimezone(UTC)
        if candidate > previous:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def start_series(session, organization_id, member_id, repeat, first):
    series = Series(
        organization_id=organization_id,
        day=repeat["day"],
        time=repeat["time"],
        created_by=member_id,
        made_until=first,
    )
    session.add(series)
    session.flush()
    return series


def _template(session, series):
    """The series' latest occurrence: the next ones take its title, place, length and agenda."""
    return session.scalar(
        select(Meeting).where(Meeting.series_id == series.id).order_by(Meeting.starts_at.desc()).limit(1)
    )


def extend_series(unit, series, now, add_meeting, ahead=None):
    """Occurrences after the series' latest up to `ahead` from now; returns how many were made."""
    session = unit.session
    horizon = now + (ahead or repeat_ahead())
    organization = session.get(directory.Organization, series.organization_id)
    template = _template(session, series)
    if organization is None or template is None:
        return 0
    length = aware(template.ends_at) - aware(template.starts_at)
    data = {
        "kind": template.kind,
        "title": template.title,
        "location": template.location,
        "online_url": template.online_url,
        "agenda": _agenda(session, template.id),
    }
    made, latest = 0, aware(template.starts_at)
    while True:
        latest = occurrence_after(latest, series.day, series.time)
        if latest <= now:
            continue  # a month the series missed (rolled forward late) is not made in the past
        if latest > horizon:
            return made
        add_meeting(unit, organization, series.created_by, data, latest, latest + length, series.id)
        made += 1


def roll_forward(unit, now, add_meeting, limit=500):
    """The scheduler's pass: series whose occurrences end before the horizon get the next ones. Each series is
    claimed by a conditional UPDATE of `made_until`, so two replicas never make the same occurrence."""
    horizon = now + repeat_ahead()
    made = 0
    with unit.transaction() as session:
        due = session.execute(
            select(Series.id, Series.made_until).where(Series.made_until < horizon).limit(limit)
        ).all()
    for series_id, made_until in due:
        with unit.transaction() as session:
            claimed = session.execute(
                update(Series).where(Series.id == series_id, Series.made_until == made_until).values(made_until=horizon)
            ).rowcount
            if claimed:
                made += extend_series(unit, session.get(Series, series_id), now, add_meeting)
    return made


def _agenda(session, meeting_id):
    return [
        {"title": row.title, "document_ids": list(row.document_ids or []), "papers": list(row.papers or [])}
        for row in session.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        )
    ]
