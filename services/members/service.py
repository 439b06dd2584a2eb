"""members: the party member database and organisation tree (thin nameko entrypoints)."""
import logging
import time

import eventlet
from eventlet import tpool
from nameko.extensions import DependencyProvider

from shared import uploads
from shared.auth import Caller
from shared.contracts.members import (MemberCreate, MemberQuery, MemberUpdate, MeUpdate, OrganizationCreate,
                                      OrganizationUpdate, PositionChange, RecordCreate, TransferRequest)
from shared.db import Database
from shared.entrypoints import rpc
from shared.errors import Forbidden, NotFound, ValidationError
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.subscriber import subscribe
from shared.validation import load
from services.members import administration, changes, counts, domain, importing, registration, search
from services.members.models import Base, ImportJob, Member

log = logging.getLogger(__name__)


class Imports(DependencyProvider):
    """Runs imports in the background, beside the service, each under an owner lease in members'
    database (importing.py): progress is read from there, so every replica answers the same, and
    a job whose process died is marked failed by whichever replica sweeps first."""

    def setup(self):
        self.owner = importing.new_owner()
        self.lease = importing.lease_seconds()
        self.running = {}          # job id → the green thread running it
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
                except Exception:   # already recorded on the job by importing.execute
                    pass

    def get_dependency(self, worker_ctx):
        return self

    def launch(self, database, job_id, content, filename, dry_run, context, reference):
        self.running[job_id] = self.container.spawn_managed_thread(
            lambda: self._run(database, job_id, content, filename, dry_run, context, reference),
            identifier=f"import {job_id}")

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
            job = importing.execute(database, job_id, content, filename, dry_run, context, self.owner, self.lease,
                                    checkpoint=self._checkpoint, offload=tpool.execute)
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
                        uploads.discard(upload)   # personal data must not linger
            except Exception as exc:   # the database away for a moment: the next sweep tries again
                log.warning("import lease sweep failed with %s", type(exc).__name__)
            finally:
                unit.close()
            next_sweep = time.monotonic() + max(self.lease / 2, 0.2)
            while not self.stopping and time.monotonic() < next_sweep:
                eventlet.sleep(0.2)   # a stopping service does not wait half a lease for its sweeper


YIELD_EVERY = 0.005   # seconds an import may hold the process before others get a turn
STOP_GRACE = 3.0   # seconds of shared.serve's 5 s stop deadline given to running imports to mark themselves failed


class MembersService(Operations):
    name = "members"

    db = Database(Base.metadata)
    caller = Caller()
    imports = Imports()
    telemetry = Telemetry()

    def _actor(self, session):
        return domain.load_actor(session, self.caller.require().member_id)

    @rpc
    def get_me(self):
        principal = self.caller.require()
        with self.db.reading() as session:
            return domain.get_me(session, principal.member_id)

    @rpc
    def update_me(self, body):
        data = load(MeUpdate(), body)
        with self.db.transaction() as session:
            return changes.update_me(self.db, self._actor(session), data)

    @rpc
    def get_member(self, member_id):
        principal = self.caller.require()
        with self.db.reading() as session:
            return domain.get_member(session, principal.member_id, member_id)

    @rpc
    def create_member(self, data):
        """The member, or a registration pending review (see registration.py)."""
        data = load(MemberCreate(), data)
        with self.db.transaction() as session:
            return registration.register(self.db, self._actor(session), data)

    @rpc
    def pending_registrations(self):
        with self.db.transaction() as session:
            return registration.pending_reviews(session, self._actor(session))

    @rpc
    def close_registration(self, registration_id, reason=None):
        with self.db.transaction() as session:
            return registration.close(self.db, self._actor(session), int(registration_id), reason)

    @rpc
    def update_member(self, member_id, body):
        data = load(MemberUpdate(), body)
        with self.db.transaction() as session:
            return domain.member_json(changes.update_member(self.db, self._actor(session), member_id, data))

    @rpc
    def get_organization(self, organization_id):
        principal = self.caller.require()
        with self.db.reading() as session:
            return domain.get_organization(session, principal.member_id, organization_id)

    @rpc
    def list_children(self, organization_id):
        principal = self.caller.require()
        with self.db.reading() as session:
            return domain.list_children(session, principal.member_id, organization_id)

    @rpc
    def list_members(self, organization_id, params=None):
        query = load(MemberQuery(), params or {})
        with self.db.reading() as session:
            return search.member_page(session, self._actor(session), organization_id, **query)

    @rpc
    def organization_stats(self, organization_id):
        with self.db.reading() as session:
            actor = self._actor(session)
            org = session.get(domain.Organization, organization_id)
            if org is None or not actor.manages(org.path):
                raise NotFound()
            return counts.stats(session, org)

    @rpc
    def create_organization(self, parent_id, body):
        data = load(OrganizationCreate(), body)
        with self.db.transaction() as session:
            return administration.add_child(self.db, self._actor(session), parent_id, data["code"], data["name"])

    @rpc
    def update_organization(self, organization_id, body):
        data = load(OrganizationUpdate(), body)
        with self.db.transaction() as session:
            actor = self._actor(session)
            result = None
            if "name" in data:
                result = administration.rename(self.db, actor, organization_id, data["name"])
            if "parent_id" in data:
                result = administration.move(self.db, actor, organization_id, data["parent_id"])
            return result or domain.get_organization(session, actor.member.id, organization_id)

    @rpc
    def merge_organization(self, organization_id, into_id):
        with self.db.transaction() as session:
            return administration.merge(self.db, self._actor(session), organization_id, int(into_id))

    @rpc
    def set_rollout(self, organization_id, state):
        if state not in ("disabled", "pilot", "live"):
            raise ValidationError(details={"state": ["disabled | pilot | live"]})
        with self.db.transaction() as session:
            return administration.change_rollout(self.db, self._actor(session), organization_id, state)

    @rpc
    def change_requests(self):
        with self.db.transaction() as session:
            return changes.pending_change_requests(session, self._actor(session))

    @rpc
    def decide_change_request(self, request_id, approve, reason=None):
        with self.db.transaction() as session:
            return changes.decide_change_request(self.db, self._actor(session), int(request_id), bool(approve), reason)

    @rpc
    def issue_transfer(self, member_id, body):
        data = load(TransferRequest(), body)
        with self.db.transaction() as session:
            return changes.issue_transfer(self.db, self._actor(session), member_id, data["to_organization_id"],
                                          data["kind"], data["note"])

    @rpc
    def incoming_transfers(self):
        with self.db.transaction() as session:
            return changes.incoming_transfers(session, self._actor(session))

    @rpc
    def accept_transfer(self, transfer_id):
        with self.db.transaction() as session:
            return changes.accept_transfer(self.db, self._actor(session), int(transfer_id))

    @rpc
    def change_position(self, member_id, body, assign=True):
        data = load(PositionChange(), body)
        change = changes.assign_position if assign else changes.remove_position
        with self.db.transaction() as session:
            return change(self.db, self._actor(session), member_id, data["organization_id"], data["role"])

    @rpc
    def add_record(self, member_id, body):
        data = load(RecordCreate(), body)
        with self.db.transaction() as session:
            return changes.add_record(self.db, self._actor(session), member_id, data)

    @rpc
    def list_records(self, member_id):
        with self.db.transaction() as session:
            return changes.list_records(session, self._actor(session), member_id)

    def _importer(self, session):
        """System administrators import; everyone else is refused."""
        actor = self._actor(session)
        if not actor.is_admin:
            raise Forbidden()
        return actor

    @rpc
    def may_import(self):
        """Asked by the gateway before it reads an upload: a refusal costs the caller nothing to send."""
        with self.db.reading() as session:
            self._importer(session)
        return {"allowed": True}

    @rpc
    def start_import(self, reference, filename, dry_run=False):
        """`reference` names a file the gateway wrote into the import directory (shared/uploads.py);
        it is deleted once the import ends, or at once when refused."""
        uploads.path_of(reference)
        uploads.sweep()
        try:
            with self.db.transaction() as session:
                actor = self._importer(session)
                content = uploads.read(reference)
                job = importing.new_job(content, bool(dry_run), started_by=actor.member.id,
                                        owner=self.imports.owner, lease=self.imports.lease)
                job.upload = reference
                session.add(job)
        except BaseException:
            uploads.discard(reference)
            raise
        self.imports.launch(self.db.provider, job.id, content, str(filename or "")[:255], bool(dry_run),
                            self.db.context, reference)
        return {"id": job.id, "status": "running"}

    @rpc
    def import_status(self, job_id):
        with self.db.reading() as session:   # never behind an import's apply (issue 9, item 7)
            self._importer(session)
            job = session.get(ImportJob, str(job_id))
            if job is None:
                raise NotFound()
            return importing.job_json(job)

    @rpc
    def grant_first_administrator(self, citizen_id):
        """The operator command `python -m services.identity.admin create`: only while there is no administrator."""
        self.caller.require_service("identity")
        with self.db.transaction():
            return administration.grant_first_administrator(self.db, str(citizen_id))

    @rpc
    def member_snapshots(self, after_id=0, limit=1000, updated_since=None):
        """Bulk read for other services rebuilding their projection of members."""
        self.caller.require_service("identity", "notify")
        with self.db.reading() as session:
            return domain.snapshots_after(session, int(after_id), min(int(limit), 5000), updated_since,
                                          pause=eventlet.sleep)

    @subscribe("identity", "identity.account_activated")
    def on_account_activated(self, envelope):
        def count_uptake(session, payload):
            member = session.get(Member, payload["member_id"])
            if member is not None:
                changes.record_activation(session, member)

        self.db.once(envelope, count_uptake)
