"""A member's data in meetings: theirs to take, and erased when members orders it (members decides an erasure: an
administrator asked, with a reason; services/members/privacy.py).

Export: their invitations (answers with reasons, check-ins), their opinions, their choices in open votes, and
which secret votes they took part in (never a choice: none is kept). Erasure: their name (the directory entry) and
their invitations to meetings yet to come go; the reasons they gave for absences and the bodies of their opinions
are emptied; what stays is their member id in past meetings' records (attendance and open votes, as members keeps a
tombstone so figures stay consistent). `erasures` records who asked, when and why.
"""

from sqlalchemy import select, update

from shared.db import aware
from shared.errors import NotFound
from services.meetings.domain import check_in_json, invitations_changed, rsvp_json
from services.meetings.invitations import uninvite
from services.meetings.models import Erasure, Invitee, Meeting, OpenBallot, Opinion, Vote, Voter, directory

ERASED = "Đã xoá / Erased"


def export(session, principal, member_id):
    """Everything meetings keeps about `member_id`, for that member alone."""
    if member_id != principal.member_id:
        raise NotFound()
    invitations = session.execute(
        select(Invitee, Meeting).join(Meeting, Meeting.id == Invitee.meeting_id).where(Invitee.member_id == member_id)
    ).all()
    opinions = session.scalars(select(Opinion).where(Opinion.member_id == member_id).order_by(Opinion.id))
    ballots = session.execute(
        select(OpenBallot, Vote.question)
        .join(Vote, Vote.id == OpenBallot.vote_id)
        .where(OpenBallot.member_id == member_id)
    ).all()
    secret = session.scalars(select(Voter.vote_id).where(Voter.member_id == member_id)).all()
    return {
        "invitations": [
            {
                "meeting_id": meeting.id,
                "title": meeting.title,
                "starts_at": aware(meeting.starts_at).isoformat(),
                "rsvp": rsvp_json(invitee),
                "check_in": check_in_json(invitee),
            }
            for invitee, meeting in invitations
        ],
        "opinions": [
            {"meeting_id": o.meeting_id, "body": o.body, "created_at": aware(o.created_at).isoformat()}
            for o in opinions
        ],
        "open_ballots": [{"vote_id": b.vote_id, "question": question, "choice": b.choice} for b, question in ballots],
        "secret_votes_taken_part_in": list(secret),
    }


def erase(uow, principal, member_id, reason):
    """Erase what meetings keeps of `member_id` (members' order for the administrator `principal`). Answers how many
    of what went, never what."""
    session = uow.session
    left = uninvite(session, member_id)
    invitations_changed(uow, left)  # every invitee's count of those meetings, kept elsewhere too
    done = {
        "invitations": len(left),
        "absence_reasons": session.execute(
            update(Invitee)
            .where(Invitee.member_id == member_id, Invitee.rsvp_reason.is_not(None))
            .values(rsvp_reason=ERASED)
        ).rowcount,
        "opinions": session.execute(update(Opinion).where(Opinion.member_id == member_id).values(body=ERASED)).rowcount,
    }
    directory.erase(session, member_id)
    Erasure.record(session, member_id, principal, reason, uow.context)
    return done
