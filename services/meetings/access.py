"""Who may do what with a meeting, decided here from meetings' own copy of the directory.

- runs: the organisation's secretary or deputy secretary, or a secretary, deputy or committee member of an
  organisation above it (not the organisation's own committee members): they schedule, change, cancel, start
  and close, show the check-in code, record answers and check-ins for members, run votes, pin and hide
  opinions, publish minutes.
- sees: the meeting's invitees and the officers of its organisation or above (a system administrator too).
  Anyone else is told the meeting does not exist (404); one who sees it but may not act is refused (403).
"""

from sqlalchemy import select

from shared.contracts.members import ADMIN_ROLE, DEPUTY_SECRETARY, OFFICER_ROLES, SECRETARY
from shared.errors import Forbidden, NotFound
from shared.tree import in_subtree
from services.meetings.models import Invitee, Meeting, directory

RUN_HERE = (SECRETARY, DEPUTY_SECRETARY)


def positions(session, member_id):
    """(role, organisation path) of the member's positions; none for one who left the party."""
    in_party = session.scalar(select(directory.Membership.in_party).where(directory.Membership.member_id == member_id))
    if not in_party:
        return []
    return session.execute(
        select(directory.Position.role, directory.Position.organization_path).where(
            directory.Position.member_id == member_id
        )
    ).all()


def may_run(held, path):
    """Whether positions `held` ((role, path)) run the meetings of the organisation at `path`."""
    return any(
        (where == path and role in RUN_HERE) or (where != path and role in OFFICER_ROLES and in_subtree(path, where))
        for role, where in held
    )


def oversees(held, path):
    """Officers of the organisation or above, and system administrators: they read its meetings."""
    return any(role == ADMIN_ROLE or (role in OFFICER_ROLES and in_subtree(path, where)) for role, where in held)


def path_of(session, meeting):
    """Where the meeting's organisation sits now: the directory follows moves and merges, the meeting's own copy
    of the path is what it was when scheduled."""
    organization = session.get(directory.Organization, meeting.organization_id)
    return organization.path if organization is not None else meeting.organization_path


def invitation(session, meeting_id, member_id):
    return session.get(Invitee, {"meeting_id": meeting_id, "member_id": member_id})


class Access:
    """What one member may do with one meeting."""

    def __init__(self, session, member_id, meeting):
        self.member_id = member_id
        self.meeting = meeting
        held = positions(session, member_id)
        self.invitee = invitation(session, meeting.id, member_id)
        path = path_of(session, meeting)
        self.runs = may_run(held, path)
        self.oversees = self.runs or oversees(held, path)
        self.sees = self.invitee is not None or self.oversees

    def require_run(self):
        if not self.runs:
            raise Forbidden()
        return self

    def require_invitee(self):
        if self.invitee is None:
            raise Forbidden(
                message="Chỉ người được mời mới làm được việc này. / Only the meeting's invitees can do this."
            )
        return self.invitee


def meeting_for(session, member_id, meeting_id):
    """The meeting and what the member may do with it; 404 for one they may not know of."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound()
    access = Access(session, member_id, meeting)
    if not access.sees:
        raise NotFound()
    return access
