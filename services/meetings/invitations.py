"""Who is invited: every current member of the organisation (probationary included), or for a committee meeting
its committee (the holders of an officer position there). The list follows members' events (joining, leaving,
transfers, positions, erasure) until the meeting starts or is cancelled, and is frozen with the record after."""

from sqlalchemy import and_, delete, exists, insert, literal, select

from shared.contracts.members import OFFICER_ROLES
from shared.db import utcnow
from services.meetings.models import Invitee, Meeting, directory

Member, Position = directory.Membership, directory.Position


def _invited(meeting):
    """The member ids a meeting invites, as a SELECT over the directory."""
    if meeting.kind == "committee":
        return (
            select(Position.member_id)
            .join(Member, Member.member_id == Position.member_id)
            .where(
                Position.organization_id == meeting.organization_id,
                Position.role.in_(OFFICER_ROLES),
                Member.in_party,
            )
            .distinct()
        )
    # by path, which the directory indexes (not by id): a branch's members are one range of 5.6 M rows, not a scan
    path = select(directory.Organization.path).where(directory.Organization.id == meeting.organization_id)
    return select(Member.member_id).where(
        Member.organization_path == path.scalar_subquery(),
        Member.organization_id == meeting.organization_id,
        Member.in_party,
    )


def invite_all(session, meeting):
    """The invitees of a new meeting: one INSERT … SELECT, however large the organisation."""
    chosen = _invited(meeting).subquery()
    session.execute(
        insert(Invitee).from_select(["meeting_id", "member_id"], select(literal(meeting.id), chosen.c.member_id))
    )


def member_ids(session, meeting_id):
    return list(
        session.scalars(select(Invitee.member_id).where(Invitee.meeting_id == meeting_id).order_by(Invitee.member_id))
    )


def _upcoming(now):
    return and_(Meeting.status == "scheduled", Meeting.starts_at > now)


def resync_member(session, member_id, now=None):
    """Bring the member's invitations to not-yet-started meetings in line with the directory: invited to each such
    meeting they should be at (their organisation's, their committees'), to no other. Answers the changes:
    [(meeting id, organisation id, member id)] (what meetings.meeting_updated then says)."""
    changed = []
    now = now or utcnow()
    member = session.get(Member, member_id)
    held = (
        set(
            session.scalars(
                select(Position.organization_id).where(
                    Position.member_id == member_id, Position.role.in_(OFFICER_ROLES)
                )
            )
        )
        if member is not None and member.in_party
        else set()
    )
    upcoming = session.scalars(
        select(Meeting).where(_upcoming(now)).where(Meeting.id.in_(_candidates(member_id, member, held)))
    ).all()
    for meeting in upcoming:
        belongs = (
            member is not None
            and member.in_party
            and (
                meeting.organization_id in held
                if meeting.kind == "committee"
                else meeting.organization_id == member.organization_id
            )
        )
        invited = session.get(Invitee, {"meeting_id": meeting.id, "member_id": member_id})
        if belongs and invited is None:
            session.add(Invitee(meeting_id=meeting.id, member_id=member_id))
        elif invited is not None and not belongs:
            session.delete(invited)
        else:
            continue
        changed.append((meeting.id, meeting.organization_id, member_id))
    return changed


def _candidates(member_id, member, held):
    """Meetings the member is invited to or might be: theirs now, and those of their organisation and committees."""
    organizations = set(held) | ({member.organization_id} if member is not None else set())
    return select(Meeting.id).where(
        exists().where(Invitee.meeting_id == Meeting.id, Invitee.member_id == member_id)
        | Meeting.organization_id.in_(organizations)
    )


# --- the effects of members' events (for db.once) ------------------------------------------------------------


def member_changed(session, envelope):
    """members.member_created / member_updated (a transfer or leaving the party is an update too)."""
    return project_member(session, envelope["payload"])


def project_member(session, snapshot):
    """A snapshot (an event's or the bulk re-read's) projected, and the member's coming invitations with it."""
    if directory.project_member(session, snapshot) is not None:
        session.flush()
        return resync_member(session, snapshot["member_id"])
    return []


def position_changed(session, envelope):
    directory.position_changed(session, envelope)
    session.flush()
    return resync_member(session, envelope["payload"]["member_id"])


def member_erased(session, envelope):
    """The member goes from the directory and from meetings yet to come; past records keep only the id."""
    member_id = envelope["payload"]["member_id"]
    directory.member_erased(session, envelope)
    session.flush()
    return uninvite(session, member_id)


def uninvite(session, member_id):
    """The member taken from every meeting yet to come; the changes as `resync_member` answers them."""
    upcoming = select(Meeting.id).where(_upcoming(utcnow()))
    left = session.execute(
        select(Meeting.id, Meeting.organization_id)
        .join(Invitee, Invitee.meeting_id == Meeting.id)
        .where(Invitee.member_id == member_id, Meeting.id.in_(upcoming))
    ).all()
    session.execute(delete(Invitee).where(Invitee.member_id == member_id, Invitee.meeting_id.in_(upcoming)))
    return [(meeting_id, organization_id, member_id) for meeting_id, organization_id in left]
