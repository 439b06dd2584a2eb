"""Reading meetings: one, a member's, an organisation's, a meeting's invitees; pages by keyset."""

from datetime import UTC, datetime

from sqlalchemy import Integer, bindparam, func, select

from shared import digests
from shared.contracts.common import decode_cursor, encode_cursor
from shared.db import DriverStatement, aware, utcnow
from shared.errors import NotFound, ValidationError
from services.meetings.access import meeting_for, oversees, positions
from services.meetings.domain import (
    agendas_of,
    check_in_json,
    counts_of,
    invitations_of,
    meeting_json,
    member_of,
    organization_of,
    rsvp_json,
)
from services.meetings.models import Invitee, Meeting, Minutes, OpenBallot, Opinion, Vote, Voter, directory


def get_meeting(session, member_id, meeting_id, now=None):
    """The meeting as the member sees it, with `activity`: a digest of what its screen shows beside it (votes,
    opinions, minutes), so that the portal reads those again only when it changed, not at every check-in that moves
    the counts. For an invitee also its `version` (a digest of all of it) and until when it holds by itself
    (`holds_until`: its start or end still ahead), as `versioned_my_meetings`. An officer who is not invited sees
    it through their positions, which change with no event of ours (the gateway may forget on members' event
    before we applied it): their answer has no version, so they are always asked here, where access is decided."""
    now = now or utcnow()
    access = meeting_for(session, member_id, meeting_id)
    answer = meeting_json(session, access.meeting, member_id, now, invitee=access.invitee)
    answer["activity"] = digests.answer_version(activity(session, access.meeting.id, member_id))
    if access.invitee is None:
        return answer
    return {**answer, "version": digests.answer_version(answer), "holds_until": _due([answer], now)}


def _activity_statement():
    meeting, member = bindparam("meeting_id", type_=Integer), bindparam("member_id", type_=Integer)
    votes = select(Vote.id).where(Vote.meeting_id == meeting)

    def one(*columns, where):
        return [select(column).where(where).scalar_subquery() for column in columns]

    columns = [
        *one(func.count(), func.max(Vote.id), func.max(Vote.closed_at), where=Vote.meeting_id == meeting),
        *one(func.count(), where=Voter.vote_id.in_(votes) & (Voter.member_id == member)),
        *one(func.count(), where=OpenBallot.vote_id.in_(votes) & (OpenBallot.member_id == member)),
        *one(
            func.count(),
            func.max(Opinion.id),
            func.max(Opinion.edited_at),
            func.max(Opinion.hidden_at),
            func.max(Opinion.pin_changed_at),
            where=Opinion.meeting_id == meeting,
        ),
        *one(Minutes.published_at, where=Minutes.meeting_id == meeting),
    ]
    return DriverStatement(select(*(column.label(f"c{n}") for n, column in enumerate(columns))))


# built and compiled once, run on the driver: built per call, its ten subqueries cost SQLAlchemy 1.75-1.93 ms of
# CPU to build, key and run (0.03-0.05 ms this way, in-process; a meeting's plain read 12.1 -> 18.1 ms in bench.run)
_ACTIVITY = _activity_statement()


def activity(session, meeting_id, member_id):
    """What the meeting's screen shows of its votes, opinions and minutes, summed up in one query, so that the
    meeting's version changes with them and the portal reads them only then: every write of those only adds a
    row or sets a time (a pin or an unpin too; votes and opinions are never deleted), so counts, last ids and last
    times tell any change. The member's own ballots count ("my ballot cast"); results show once a vote is closed."""
    return list(_ACTIVITY.one(session, {"meeting_id": meeting_id, "member_id": member_id}))


def _page(session, query, member_id, limit, cursor, now):
    if cursor:
        starts, last_id = decode_cursor(cursor, str, int)
        try:
            starts = aware_from(starts)
        except ValueError:
            raise ValidationError(details={"cursor": ["Không hợp lệ. / Not a cursor this API gave."]}) from None
        query = query.where((Meeting.starts_at > starts) | ((Meeting.starts_at == starts) & (Meeting.id > last_id)))
    meetings = session.scalars(query.order_by(Meeting.starts_at, Meeting.id).limit(limit + 1)).all()
    more = len(meetings) > limit
    meetings = meetings[:limit]
    ids = [m.id for m in meetings]
    counts, mine, agendas = counts_of(session, ids), invitations_of(session, ids, member_id), agendas_of(session, ids)
    items = [
        meeting_json(session, m, member_id, now, counts.get(m.id, (0, 0, 0)), mine.get(m.id), agendas[m.id])
        for m in meetings
    ]
    last = meetings[-1] if more else None
    return {
        "items": items,
        "next_cursor": encode_cursor(aware(last.starts_at).isoformat(), last.id) if last else None,
    }


def aware_from(text):
    return datetime.fromisoformat(text).astimezone(UTC)


def _between(query, data):
    if data.get("from"):
        query = query.where(Meeting.starts_at >= data["from"].astimezone(UTC))
    if data.get("to"):
        query = query.where(Meeting.starts_at < data["to"].astimezone(UTC))
    return query


def my_meetings(session, member_id, data, now=None):
    """The meetings the member is invited to (their branch's, their committees'), soonest first."""
    query = select(Meeting).join(Invitee, Invitee.meeting_id == Meeting.id).where(Invitee.member_id == member_id)
    return _page(session, _between(query, data), member_id, data["limit"], data["cursor"], now or utcnow())


def versioned_my_meetings(session, member_id, data, now=None):
    """`my_meetings` with its `version` (a digest of the page) and until when it holds by itself (`holds_until`):
    the first start or end still ahead among the meetings it shows (their status moves with the clock); what
    else it shows changes with meetings' events (scheduled, changed, cancelled, an answer, a check-in, opened or
    closed)."""
    now = now or utcnow()
    answer = my_meetings(session, member_id, data, now)
    return {**answer, "version": digests.answer_version(answer), "holds_until": _due(answer["items"], now)}


def _due(shown, now):
    """The first start or end after `now` among the meetings `shown` (their status moves with the clock then), or
    None: all cancelled or closed, or none."""
    moments = (
        moment
        for item in shown
        if item["status"] not in ("cancelled", "closed")
        for moment in (aware_from(item["starts_at"]), aware_from(item["ends_at"]))
        if moment > now
    )
    due = min(moments, default=None)
    return due and due.isoformat()


def organization_meetings(session, member_id, organization_id, data, now=None):
    """An organisation's meetings: all of them for its officers and those above; a member of it, the ones they
    are invited to; anyone else: 404."""
    organization = organization_of(session, organization_id)
    if organization is None:
        raise NotFound()
    held = positions(session, member_id)
    query = _between(select(Meeting).where(Meeting.organization_id == organization.id), data)
    if not oversees(held, organization.path):
        if not member_of(session, member_id, organization):
            raise NotFound()
        query = query.join(Invitee, Invitee.meeting_id == Meeting.id).where(Invitee.member_id == member_id)
    return _page(session, query, member_id, data["limit"], data["cursor"], now or utcnow())


def invitees(session, member_id, meeting_id, data):
    """Who is invited, with their answers and check-ins: for the meeting's runners and officers above, and
    invitees (a branch sees who is coming, not why someone is absent)."""
    access = meeting_for(session, member_id, meeting_id)
    query = (
        select(Invitee, directory.Membership.full_name)
        .outerjoin(directory.Membership, directory.Membership.member_id == Invitee.member_id)
        .where(Invitee.meeting_id == access.meeting.id)
    )
    return id_page(
        session,
        query,
        Invitee.member_id,
        data,
        lambda row: {
            "member_id": row[0].member_id,
            "full_name": row[1],
            "rsvp": rsvp_json(row[0], reason=access.oversees or row[0].member_id == member_id),
            "check_in": check_in_json(row[0]),
        },
        key_of=lambda row: row[0].member_id,
        scalars=False,
    )


def id_page(session, query, key, data, item, key_of=lambda row: row.id, scalars=True):
    """A page of `query`'s rows in the order of the integer column `key`, after the cursor; `item(row)` is each
    one's JSON."""
    if data["cursor"]:
        (after,) = decode_cursor(data["cursor"], int)
        query = query.where(key > after)
    result = session.execute(query.order_by(key).limit(data["limit"] + 1))
    rows = (result.scalars() if scalars else result).all()
    more = len(rows) > data["limit"]
    rows = rows[: data["limit"]]
    return {"items": [item(row) for row in rows], "next_cursor": encode_cursor(key_of(rows[-1])) if more else None}
