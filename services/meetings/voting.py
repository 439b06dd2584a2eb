"""Votes (biểu quyết); the minutes are in minutes.py.

A vote is open or secret. An open vote keeps each ballot (who chose what is part of the record). A secret vote
keeps two things only: `voters` (vote, member), whose key refuses a second ballot, and `tallies` (vote, choice,
count), counters changed in the same transaction. No ballot row, no id, no time: the database cannot say who
chose what. Every tally of the vote is rewritten with each ballot (+1 on one, +0 on the others), so on
PostgreSQL the rows' transaction ids point at no one choice either.
"""

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from shared.contracts.meetings import DEFAULT_OPTIONS, AlreadyVoted, MeetingClosed, VoteClosedError
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, NotFound, ValidationError
from services.meetings.access import meeting_for
from services.meetings.domain import status_of, updated
from services.meetings.models import Invitee, OpenBallot, Tally, Vote, Voter, directory


def vote_json(session, vote, member_id):
    if vote.secret:
        mine = session.get(Voter, {"vote_id": vote.id, "member_id": member_id})
    else:
        mine = session.get(OpenBallot, {"vote_id": vote.id, "member_id": member_id})
    return {
        "id": vote.id,
        "meeting_id": vote.meeting_id,
        "question": vote.question,
        "secret": vote.secret,
        "eligible": vote.eligible,
        "options": list(vote.options),
        "status": vote.status,
        "results": vote.results if vote.status == "closed" else None,  # never while it is open
        "my_ballot_cast": mine is not None,
    }


def create_vote(unit, member_id, meeting_id, data, now=None):
    now = now or utcnow()
    session = unit.session
    meeting = meeting_for(session, member_id, meeting_id).require_run().meeting
    if status_of(meeting, now) not in ("scheduled", "in_progress"):
        raise MeetingClosed()
    options = list(data.get("options") or DEFAULT_OPTIONS)
    if len(set(options)) != len(options):
        raise ValidationError(details={"options": ["Các phương án phải khác nhau. / Options must differ."]})
    vote = Vote(
        meeting_id=meeting.id,
        question=data["question"],
        secret=data["secret"],
        eligible=data["eligible"],
        options=options,
        status="open",
        created_by=member_id,
    )
    session.add(vote)
    session.flush()
    if vote.secret:
        session.add_all(Tally(vote_id=vote.id, choice=option, count=0) for option in options)
        session.flush()
    updated(unit, meeting)  # the meeting's screen shows it: its invitees' versions of the meeting change
    return vote_json(session, vote, member_id)


def _vote(session, member_id, vote_id, lock=None):
    """The vote and the member's access to its meeting; `lock`: "share" for a ballot, "update" for closing it, so
    a ballot and the close of its vote never interleave (PostgreSQL; SQLite has one writer anyway)."""
    query = select(Vote).where(Vote.id == vote_id)
    if lock:
        query = query.with_for_update(read=lock == "share")
    vote = session.scalar(query)
    if vote is None:
        raise NotFound()
    return vote, meeting_for(session, member_id, vote.meeting_id)


def get_vote(session, member_id, vote_id):
    vote, _ = _vote(session, member_id, vote_id)
    return vote_json(session, vote, member_id)


def list_votes(session, member_id, meeting_id):
    access = meeting_for(session, member_id, meeting_id)
    votes = session.scalars(select(Vote).where(Vote.meeting_id == access.meeting.id).order_by(Vote.id)).all()
    return {"items": [vote_json(session, vote, member_id) for vote in votes], "next_cursor": None}


def _official(session, member_id):
    return session.scalar(select(directory.Membership.status).where(directory.Membership.member_id == member_id)) == (
        "official"
    )


def cast_ballot(unit, member_id, vote_id, choice, now=None):
    """One ballot per eligible invitee while the vote is open and the meeting in progress."""
    now = now or utcnow()
    session = unit.session
    vote, access = _vote(session, member_id, vote_id, lock="share")
    access.require_invitee()
    if vote.eligible == "official" and not _official(session, member_id):
        raise Forbidden(
            message="Đảng viên dự bị không biểu quyết nội dung này. / Probationary members do not vote on this."
        )
    if vote.status != "open":
        raise VoteClosedError()
    if status_of(access.meeting, now) != "in_progress":
        raise Conflict(message="Chỉ biểu quyết khi cuộc họp đang diễn ra. / Votes are cast during the meeting.")
    if choice not in vote.options:
        raise ValidationError(details={"choice": [f"Một trong / One of: {', '.join(vote.options)}"]})
    ballot = Voter(vote_id=vote.id, member_id=member_id)
    if not vote.secret:
        ballot = OpenBallot(vote_id=vote.id, member_id=member_id, choice=choice, cast_at=now)
    try:
        with session.begin_nested():
            session.add(ballot)
    except IntegrityError:
        raise AlreadyVoted() from None
    if vote.secret:
        session.execute(
            update(Tally)
            .where(Tally.vote_id == vote.id)
            .values(count=Tally.count + case((Tally.choice == choice, 1), else_=0))
        )
    # no event: a ballot changes only what its voter sees ("my ballot cast"), and the voter's own write forgets their
    # versions at the gateway; an event per ballot would reach every gateway process (~2,500 a second at the peak)
    return {"vote_id": vote.id, "cast": True}


def results(session, vote, meeting):
    """counts, eligible, cast, present (checked in), and whether more than half of the official members invited
    are present (the quorum)."""
    if vote.secret:
        counts = dict(session.execute(select(Tally.choice, Tally.count).where(Tally.vote_id == vote.id)).all())
    else:
        counts = dict.fromkeys(vote.options, 0) | dict(
            session.execute(
                select(OpenBallot.choice, func.count()).where(OpenBallot.vote_id == vote.id).group_by(OpenBallot.choice)
            ).all()
        )
    invitees = (
        select(
            func.count(),
            func.count(case((directory.Membership.status == "official", 1))),
            func.count(Invitee.checked_in_at),
            func.count(case(((directory.Membership.status == "official") & Invitee.checked_in_at.is_not(None), 1))),
        )
        .select_from(Invitee)
        .outerjoin(directory.Membership, directory.Membership.member_id == Invitee.member_id)
        .where(Invitee.meeting_id == meeting.id)
    )
    invited, official, present, official_present = session.execute(invitees).one()
    return {
        "counts": {option: counts.get(option, 0) for option in vote.options},
        "eligible": official if vote.eligible == "official" else invited,
        "cast": sum(counts.values()),
        "present": present,
        "quorum_met": official > 0 and official_present * 2 > official,
    }


def close_vote(unit, member_id, vote_id, now=None):
    session = unit.session
    vote, access = _vote(session, member_id, vote_id, lock="update")
    access.require_run()
    if vote.status != "open":
        raise VoteClosedError()
    vote.results = results(session, vote, access.meeting)
    vote.status, vote.closed_at = "closed", now or utcnow()
    unit.publish(
        "meetings.vote_closed",
        {"vote_id": vote.id, "meeting_id": vote.meeting_id, "question": vote.question, "secret": vote.secret}
        | vote.results,
    )
    updated(unit, access.meeting)  # vote_closed names no organisation: the meeting's versions forgotten by this
    return vote_json(session, vote, member_id)
