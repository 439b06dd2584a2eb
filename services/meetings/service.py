"""meetings: the nameko entrypoints, thin (what it owns: services/meetings/README.md)."""

import logging
import threading

from nameko.extensions import DependencyProvider

from shared import config
from shared.contracts.meetings import (
    AttendanceQuery,
    AttendanceReportQuery,
    BallotIn,
    Cancellation,
    CheckInIn,
    MeetingCreate,
    MeetingQuery,
    MeetingUpdate,
    MinutesIn,
    OpinionEdit,
    OpinionIn,
    PageQuery,
    RsvpIn,
    VoteIn,
)
from shared.db import Database
from shared.kit import Service, command, member_through, query
from shared.projection import reread_members
from shared.rpc import Rpc
from shared.subscriber import BURST, subscribe
from services.meetings import (
    attendance,
    discussion,
    domain,
    invitations,
    listing,
    minutes,
    papers,
    privacy,
    reminders,
    schedule,
    totals,
    voting,
)
from services.meetings.models import Base

log = logging.getLogger(__name__)
GATEWAY = member_through("gateway")


class Scheduler(DependencyProvider):
    """In the background, every MEETINGS_SCHEDULER_INTERVAL seconds: reminders that fell due, and monthly series
    rolled forward. Safe with several replicas: each reminder and each series is claimed by a conditional UPDATE."""

    def setup(self):
        self.stopped = threading.Event()
        self.interval = float(config.get("MEETINGS_SCHEDULER_INTERVAL", 15))

    def start(self):
        self.container.spawn_managed_thread(self._run, identifier="meetings scheduler")

    def stop(self):
        self.stopped.set()

    kill = stop

    def _run(self):
        database = next(d for d in self.container.dependencies if isinstance(d, Database))
        while not self.stopped.wait(self.interval):
            unit = database.unit_of_work("meetings.scheduler")
            try:
                reminders.send_due(unit)
                schedule.roll_forward(unit, domain.utcnow(), domain.add_meeting)
                totals.count_due(unit)
            except Exception as exc:
                log.error("scheduler pass failed with %s", type(exc).__name__)
            finally:
                unit.close()


class MeetingsService(Service):
    """RPCs are a line or two each: `@query(caller=MEMBER)` / `@command(caller=MEMBER, body=Schema)` (shared/kit.py)
    hand the domain a session or the unit of work and the caller's principal."""

    name = "meetings"

    db = Database(Base.metadata)
    cluster = Rpc(timeout=30)
    content = Rpc(timeout=5)  # papers checked or read while a member waits: soon a 503, not a hang
    scheduler = Scheduler()

    # --- meetings ----------------------------------------------------------------------------------------------

    @command(caller=GATEWAY, body=MeetingCreate, in_steps=True)
    def schedule_meeting(self, unit, principal, organization_id, data):
        return papers.schedule_meeting(unit, principal.member_id, int(organization_id), data, self._reaching)

    @query(caller=GATEWAY, params=MeetingQuery)
    def my_meetings(self, session, principal, data):
        return listing.versioned_my_meetings(session, principal.member_id, data)

    @query(caller=GATEWAY, params=MeetingQuery)
    def organization_meetings(self, session, principal, organization_id, data):
        return listing.organization_meetings(session, principal.member_id, int(organization_id), data)

    @query(caller=GATEWAY)
    def get_meeting(self, session, principal, meeting_id):
        return listing.get_meeting(session, principal.member_id, int(meeting_id))

    @command(caller=GATEWAY, body=MeetingUpdate, in_steps=True)
    def update_meeting(self, unit, principal, meeting_id, data):
        return papers.update_meeting(unit, principal.member_id, int(meeting_id), data, self._reaching)

    def _reaching(self, organization_path, document_ids):
        return self.content.content.papers_reaching(organization_path, document_ids)["papers"]

    @command(caller=GATEWAY, body=Cancellation)
    def cancel_meeting(self, unit, principal, meeting_id, data):
        return domain.cancel_meeting(unit, principal.member_id, int(meeting_id), data["reason"])

    @command(caller=GATEWAY)
    def start_meeting(self, unit, principal, meeting_id):
        return domain.start_meeting(unit, principal.member_id, int(meeting_id))

    @command(caller=GATEWAY)
    def close_meeting(self, unit, principal, meeting_id):
        return domain.close_meeting(unit, principal.member_id, int(meeting_id))

    @query(caller=GATEWAY, params=PageQuery)
    def list_invitees(self, session, principal, meeting_id, data):
        return listing.invitees(session, principal.member_id, int(meeting_id), data)

    # --- answers and check-ins ---------------------------------------------------------------------------------

    @command(caller=GATEWAY, body=RsvpIn)
    def rsvp(self, unit, principal, meeting_id, data):
        return attendance.answer(unit, principal.member_id, int(meeting_id), data)

    @query(caller=GATEWAY)
    def check_in_code(self, session, principal, meeting_id):
        return attendance.current_code(session, principal.member_id, int(meeting_id))

    @command(caller=GATEWAY, body=CheckInIn)
    def check_in(self, unit, principal, meeting_id, data):
        answer, _ = attendance.check_in(unit, principal.member_id, int(meeting_id), data)
        return answer

    @query(caller=GATEWAY, params=AttendanceQuery)
    def my_attendance(self, session, principal, data):
        return attendance.my_attendance(session, principal.member_id, data)

    @query(caller=GATEWAY)
    def absentees(self, session, principal, organization_id):
        return attendance.absentees(session, principal.member_id, int(organization_id))

    @query(caller=GATEWAY, params=AttendanceReportQuery)
    def attendance_report(self, session, principal, organization_id, data):
        return totals.report(session, principal.member_id, int(organization_id), data)

    # --- opinions ----------------------------------------------------------------------------------------------

    @command(caller=GATEWAY, body=OpinionIn)
    def add_opinion(self, unit, principal, meeting_id, data):
        return discussion.add_opinion(unit, principal.member_id, int(meeting_id), data)

    @query(caller=GATEWAY, params=PageQuery)
    def list_opinions(self, session, principal, meeting_id, data):
        return discussion.list_opinions(session, principal.member_id, int(meeting_id), data)

    @command(caller=GATEWAY, body=OpinionEdit)
    def edit_opinion(self, unit, principal, opinion_id, data):
        return discussion.edit_opinion(unit, principal.member_id, int(opinion_id), data["body"])

    @command(caller=GATEWAY)
    def moderate_opinion(self, unit, principal, opinion_id, pinned=None, hidden=False):
        return discussion.moderate(unit, principal.member_id, int(opinion_id), pinned=pinned, hidden=bool(hidden))

    # --- votes and minutes -------------------------------------------------------------------------------------

    @command(caller=GATEWAY, body=VoteIn)
    def create_vote(self, unit, principal, meeting_id, data):
        return voting.create_vote(unit, principal.member_id, int(meeting_id), data)

    @query(caller=GATEWAY)
    def list_votes(self, session, principal, meeting_id):
        return voting.list_votes(session, principal.member_id, int(meeting_id))

    @query(caller=GATEWAY)
    def get_vote(self, session, principal, vote_id):
        return voting.get_vote(session, principal.member_id, int(vote_id))

    @command(caller=GATEWAY, body=BallotIn)
    def cast_ballot(self, unit, principal, vote_id, data):
        return voting.cast_ballot(unit, principal.member_id, int(vote_id), data["choice"])

    @command(caller=GATEWAY)
    def close_vote(self, unit, principal, vote_id):
        return voting.close_vote(unit, principal.member_id, int(vote_id))

    @command(caller=GATEWAY, body=MinutesIn, in_steps=True)
    def publish_minutes(self, unit, principal, meeting_id, data):
        return minutes.publish_minutes(unit, principal.member_id, int(meeting_id), data, self._papers_for_minutes)

    def _papers_for_minutes(self, organization_path, document_ids):
        return self.content.content.papers_for_minutes(organization_path, document_ids)["papers"]

    @query(caller=GATEWAY)
    def get_minutes(self, session, principal, meeting_id):
        return minutes.get_minutes(session, principal.member_id, int(meeting_id))

    # --- papers: the agenda's and the minutes' documents, served by content to whoever sees the meeting ---------

    @query(caller=GATEWAY, in_steps=True)
    def paper(self, unit, principal, meeting_id, document_id):
        papers.require_paper(unit, principal.member_id, int(meeting_id), int(document_id))
        return self.content.content.paper(int(document_id))

    @query(caller=GATEWAY, in_steps=True)
    def paper_attachment(self, unit, principal, meeting_id, document_id, n):
        papers.require_paper(unit, principal.member_id, int(meeting_id), int(document_id))
        return self.content.content.paper_attachment(int(document_id), int(n))

    # --- a member's data (the personal data law) -----------------------------------------------------------------

    @query(caller=member_through("gateway"))
    def export_member(self, session, principal, member_id):
        return privacy.export(session, principal, member_id)

    @command(caller=member_through("members"))
    def erase_member(self, unit, principal, member_id, reason):
        """Ordered by members, which decided it (an administrator asked, with a reason): see privacy.py."""
        return privacy.erase(unit, principal, int(member_id), str(reason))

    # --- members' directory ------------------------------------------------------------------------------------

    def _telling(self, effect):
        """`effect` on the directory, and meetings.meeting_updated for each invitation it made or took away, in
        its transaction."""

        def apply(session, item):
            domain.invitations_changed(self.db, effect(session, item))

        return apply

    # members' changes come in bursts (an organisation's members added, moved or corrected together): applied a
    # batch to a transaction, each effect as it was one to a transaction
    @subscribe("members", "members.member_created", batch=BURST)
    def on_member_created(self, envelopes):
        self.db.once_each(envelopes, self._telling(invitations.member_changed))

    @subscribe("members", "members.member_updated", batch=BURST)
    def on_member_updated(self, envelopes):
        self.db.once_each(envelopes, self._telling(invitations.member_changed))

    @subscribe("members", "members.position_changed")
    def on_position_changed(self, envelope):
        self.db.once(envelope, self._telling(invitations.position_changed))

    @subscribe("members", "members.members_imported")
    def on_members_imported(self, envelope):
        reread_members(self.db, self.cluster.members, envelope, self._telling(invitations.project_member))

    @subscribe("members", "members.member_erased")
    def on_member_erased(self, envelope):
        self.db.once(envelope, self._telling(invitations.member_erased))
