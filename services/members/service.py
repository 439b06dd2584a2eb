"""members: the party member database and organisation tree (thin nameko entrypoints)."""

import logging
import time

import eventlet
from eventlet import tpool
from nameko.extensions import DependencyProvider

from shared import registry, uploads
from shared.contracts.members import (
    ErasureRequest,
    MemberCreate,
    MemberQuery,
    MemberUpdate,
    MeUpdate,
    OrganizationCreate,
    OrganizationUpdate,
    PositionChange,
    RecordCreate,
    TransferRequest,
)
from shared.db import Database
from shared.kit import MEMBER, Service, command, member_through, query, services
from shared.rpc import Rpc
from shared.subscriber import BURST, subscribe
from services.members import administration, changes, domain, importing, privacy, registration, search
from services.members.models import Base, Member

log = logging.getLogger(__name__)


class Imports(DependencyProvider):
    """Runs imports in the background, beside the service, each under an owner lease in members'
    database (importing.py): progress is read from there, so every replica answers the same, and
    a job whose process died is marked failed by whichever replica sweeps first."""

    def setup(self):
        self.owner = importing.new_owner()
        self.lease = importing.lease_seconds()
        self.running = {}  # job id → the green thread running it
        self.stopping = False
        self.yielded = time.monotonic()

    def start(self):
        self.container.spawn_managed_thread(self._sweep, identifier="import lease sweeper")

    def stop(self):
        # the jobs notice at their next row or chunk and mark themselves failed (importing.Interrupted);
        # a job still in a long statement when the stop deadline kills us is left to its lease
        self.stopping = True
        for thread in list(self.running.values()):
            with eventlet.Timeout(STOP_GRACE, False):
                try:
                    thread.wait()
                except Exception:  # already recorded on the job by importing.execute
                    pass

    def get_dependency(self, worker_ctx):
        return self

    def launch(self, database, job_id, content, filename, dry_run, context, reference):
        self.running[job_id] = self.container.spawn_managed_thread(
            lambda: self._run(database, job_id, content, filename, dry_run, context, reference),
            identifier=f"import {job_id}",
        )

    def _checkpoint(self):
        """Before every row and between the apply's chunks: stop if the service stops, and let others
        answer at least every YIELD_EVERY seconds (every row would starve the import under load)."""
        if self.stopping:
            raise importing.Interrupted()
        now = time.monotonic()
        if now - self.yielded >= YIELD_EVERY:
            eventlet.sleep(0)
            self.yielded = time.monotonic()

    def _run(self, database, job_id, content, filename, dry_run, context, reference):
        try:
            job = importing.execute(
                database,
                job_id,
                content,
                filename,
                dry_run,
                context,
                self.owner,
                self.lease,
                checkpoint=self._checkpoint,
                offload=tpool.execute,
            )
            if job is not None and job.status == "failed":
                log.error("import %s failed: %s", job_id, (job.failure or "")[:80])
        finally:
            self.running.pop(job_id, None)
            uploads.discard(reference)

    def _sweep(self):
        """Every half lease: mark failed the jobs whose process died (their lease lapsed)."""
        database = next(d for d in self.container.dependencies if isinstance(d, Database))
        while not self.stopping:
            unit = database.unit_of_work("members.import_sweep")
            try:
                with unit.transaction() as session:
                    lapsed = importing.expire_lapsed(session)
                for job_id, upload in lapsed.items():
                    log.warning("import %s lost its process: marked failed", job_id)
                    if upload:
                        uploads.discard(upload)  # personal data must not linger
            except Exception as exc:  # the database away for a moment: the next sweep tries again
                log.warning("import lease sweep failed with %s", type(exc).__name__)
            finally:
                unit.close()
            next_sweep = time.monotonic() + max(self.lease / 2, 0.2)
            while not self.stopping and time.monotonic() < next_sweep:
                eventlet.sleep(0.2)  # a stopping service does not wait half a lease for its sweeper


YIELD_EVERY = 0.005  # seconds an import may hold the process before others get a turn
STOP_GRACE = 3.0  # seconds of shared.serve's 5 s stop deadline given to running imports to mark themselves failed


def _actor(session, principal):
    """The verified caller as members knows them: their record and positions (what the domain decides on)."""
    return domain.load_actor(session, principal.member_id)


class MembersService(Service):
    name = "members"

    db = Database(Base.metadata)
    imports = Imports()
    cluster = Rpc(timeout=20)

    @query(caller=MEMBER)
    def get_me(self, session, principal):
        return domain.get_me(session, principal.member_id)

    @command(caller=MEMBER, body=MeUpdate)
    def update_me(self, unit, principal, data):
        return changes.update_me(unit, _actor(unit.session, principal), data)

    @query(caller=MEMBER)
    def get_member(self, session, principal, member_id):
        return domain.get_member(session, principal.member_id, member_id)

    @command(caller=MEMBER, body=MemberCreate)
    def create_member(self, unit, principal, data):
        """The member, or a registration pending review (see registration.py)."""
        return registration.register(unit, _actor(unit.session, principal), data)

    @query(caller=MEMBER)
    def pending_registrations(self, session, principal):
        return registration.pending_reviews(session, _actor(session, principal))

    @command(caller=MEMBER)
    def close_registration(self, unit, principal, registration_id, reason=None):
        return registration.close(unit, _actor(unit.session, principal), int(registration_id), reason)

    @command(caller=MEMBER, body=MemberUpdate)
    def update_member(self, unit, principal, member_id, data):
        return domain.member_json(changes.update_member(unit, _actor(unit.session, principal), member_id, data))

    @query(caller=MEMBER)
    def get_organization(self, session, principal, organization_id):
        return domain.get_organization(session, principal.member_id, organization_id)

    @query(caller=MEMBER)
    def list_children(self, session, principal, organization_id):
        return domain.list_children(session, principal.member_id, organization_id)

    @query(caller=MEMBER, params=MemberQuery)
    def list_members(self, session, principal, organization_id, data=None):
        return search.member_page(session, _actor(session, principal), organization_id, **data)

    @query(caller=MEMBER)
    def organization_stats(self, session, principal, organization_id):
        return domain.organization_stats(session, _actor(session, principal), organization_id)

    @query(caller=MEMBER)
    def organization_uptake(self, session, principal, organization_id):
        return domain.organization_uptake(session, _actor(session, principal), organization_id)

    @command(caller=MEMBER, body=OrganizationCreate)
    def create_organization(self, unit, principal, parent_id, data):
        return administration.add_child(unit, _actor(unit.session, principal), parent_id, data["code"], data["name"])

    @command(caller=MEMBER, body=OrganizationUpdate)
    def update_organization(self, unit, principal, organization_id, data):
        return administration.change(unit, _actor(unit.session, principal), organization_id, data)

    @command(caller=MEMBER)
    def merge_organization(self, unit, principal, organization_id, into_id):
        return administration.merge(unit, _actor(unit.session, principal), organization_id, int(into_id))

    @command(caller=MEMBER)
    def set_rollout(self, unit, principal, organization_id, state):
        return administration.change_rollout(unit, _actor(unit.session, principal), organization_id, state)

    @query(caller=MEMBER)
    def change_requests(self, session, principal):
        return changes.pending_change_requests(session, _actor(session, principal))

    @command(caller=MEMBER)
    def decide_change_request(self, unit, principal, request_id, approve, reason=None):
        return changes.decide_change_request(
            unit, _actor(unit.session, principal), int(request_id), bool(approve), reason
        )

    @command(caller=MEMBER, body=TransferRequest)
    def issue_transfer(self, unit, principal, member_id, data):
        return changes.issue_transfer(
            unit, _actor(unit.session, principal), member_id, data["to_organization_id"], data["kind"], data["note"]
        )

    @query(caller=MEMBER)
    def incoming_transfers(self, session, principal):
        return changes.incoming_transfers(session, _actor(session, principal))

    @command(caller=MEMBER)
    def accept_transfer(self, unit, principal, transfer_id):
        return changes.accept_transfer(unit, _actor(unit.session, principal), int(transfer_id))

    @command(caller=MEMBER, body=PositionChange)
    def change_position(self, unit, principal, member_id, data, assign=True):
        change = changes.appoint if assign else changes.remove_position
        return change(unit, _actor(unit.session, principal), member_id, data["organization_id"], data["role"])

    @command(caller=MEMBER, body=RecordCreate)
    def add_record(self, unit, principal, member_id, data):
        return changes.add_record(unit, _actor(unit.session, principal), member_id, data)

    @query(caller=MEMBER)
    def list_records(self, session, principal, member_id):
        return changes.list_records(session, _actor(session, principal), member_id)

    @query(caller=MEMBER)
    def may_import(self, session, principal):
        """Asked by the gateway before it reads an upload: a refusal costs the caller nothing to send."""
        importing.check_importer(_actor(session, principal))
        return {"allowed": True}

    @command(caller=MEMBER)
    def start_import(self, unit, principal, reference, filename, dry_run=False):
        """`reference` names a file the gateway wrote into the import directory (shared/uploads.py); the job
        runs once this commits, beside the service."""
        job, content = importing.start(
            unit, principal.member_id, reference, bool(dry_run), self.imports.owner, self.imports.lease
        )
        if content is None:  # delivered again: the job started on the first delivery
            return {"id": job.id, "status": job.status}
        unit.after_commit(
            lambda: self.imports.launch(
                unit.provider, job.id, content, str(filename or "")[:255], bool(dry_run), unit.context, reference
            )
        )
        return {"id": job.id, "status": "running"}

    @query(caller=MEMBER)
    def import_status(self, session, principal, job_id):
        # a reading session: never behind an import's apply (issue 9, item 7)
        return importing.status(session, _actor(session, principal), job_id)

    @command(caller=services("identity"))
    def grant_first_administrator(self, unit, principal, citizen_id):
        """The operator command `python -m services.identity.admin create`: only while there is no administrator."""
        return administration.grant_first_administrator(unit, str(citizen_id))

    @query(caller=services("identity", "notify", "meetings", "content"))
    def member_snapshots(self, session, principal, after_id=0, limit=1000, updated_since=None, updated_until=None):
        """Bulk read for other services rebuilding their projection of members."""
        return domain.snapshots_after(
            session, int(after_id), min(int(limit), 5000), updated_since, updated_until, pause=eventlet.sleep
        )

    @query(caller=member_through("gateway"))
    def export_member(self, session, principal, member_id):
        return privacy.export(session, _actor(session, principal), member_id)

    @command(caller=member_through("gateway"), body=ErasureRequest)
    def erase_member(self, unit, principal, member_id, data):
        """An administrator's erasure of a member's personal data, in every service that keeps some (privacy.py)."""
        return privacy.erase(unit, _actor(unit.session, principal), member_id, data["reason"], self._erase_elsewhere)

    def _erase_elsewhere(self, member_id, reason):
        # inside members' transaction: if one cannot erase, members keeps the record and the request can be repeated
        return {
            service: getattr(self.cluster, service).erase_member(member_id, reason)
            for service in registry.keeping_personal_data()
            if service != self.name
        }

    @subscribe("identity", "identity.account_activated", batch=BURST)  # a committee going live: a burst
    def on_account_activated(self, envelopes):
        def count_uptake(session, envelope):
            member = session.get(Member, envelope["payload"]["member_id"])
            if member is not None:
                changes.record_activation(session, member)

        self.db.once_each(envelopes, count_uptake)
