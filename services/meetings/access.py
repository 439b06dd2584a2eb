"""Who may do what with a meeting, decided here from meetings' own copy of the directory.

- runs: the organisation's secretary or deputy secretary, or a secretary, deputy or committee member of an
  organisation above it (not the organisation's own committee members): they schedule, change, cancel, start
  and close, show the check-in code, record answers and check-ins for members, run votes, pin and hide
  opinions, publish minutes.
- sees: the meeting's invitees and the officers of its organisation or above (a system administrator too).
  Anyone else is told the meeting does not exist (404); one who sees it but may not act is refused (403).
"""

from sqlalchemy import and_, bindparam, exists, func, or_, select

from shared.contracts.members import ADMIN_ROLE, DEPUTY_SECRETARY, OFFICER_ROLES, SECRETARY
from shared.errors import Forbidden, NotFound
from shared.tree import in_subtree
from services.meetings.models import Invitee, Meeting, directory

RUN_HERE = (SECRETARY, DEPUTY_SECRETARY)
# what deciding whether a code may be shown, or a check-in made, needs of the meeting
MEETING_COLUMNS = ("id", "organization_id", "organization_path", "secret", "status", "starts_at", "ends_at",
                   "started_at", "closed_at")  # fmt: skip


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


_meetings = Meeting.__table__
_organizations, _memberships, _positions = (
    directory.Organization.__table__,
    directory.Membership.__table__,
    directory.Position.__table__,
)
_path = func.coalesce(_organizations.c.path, _meetings.c.organization_path)  # as path_of: where it sits now
# `may_run` of a member still in the party, in one statement built once: the secretaries' screens re-read their
# code as each 30-s step begins, 500 of them during a check-in burst, and the full check's four ORM reads cost as
# much as the check-ins themselves (bench/README.md)
RUN_BY = (
    select(*(_meetings.c[name] for name in MEETING_COLUMNS))
    .join_from(_meetings, _organizations, _organizations.c.id == _meetings.c.organization_id, isouter=True)
    .where(_meetings.c.id == bindparam("meeting"))
    .where(exists().where(_memberships.c.member_id == bindparam("member"), _memberships.c.in_party.is_(True)))
    .where(
        exists().where(
            _positions.c.member_id == bindparam("member"),
            or_(
                and_(_positions.c.organization_path == _path, _positions.c.role.in_(RUN_HERE)),
                and_(
                    _positions.c.organization_path != _path,
                    _positions.c.role.in_(OFFICER_ROLES),
                    _path.startswith(_positions.c.organization_path),
                ),
            ),
        )
    )
)


def meeting_run_by(session, member_id, meeting_id):
    """The meeting (its MEETING_COLUMNS) when the member runs it; for anyone else the full check's answer, 404 or
    403."""
    meeting = session.execute(RUN_BY, {"meeting": meeting_id, "member": member_id}).first()
    if meeting is None:
        meeting = meeting_for(session, member_id, meeting_id).require_run().meeting
    return meeting


def meeting_for(session, member_id, meeting_id):
    """The meeting and what the member may do with it; 404 for one they may not know of."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound()
    access = Access(session, member_id, meeting)
    if not access.sees:
        raise NotFound()
    return access
