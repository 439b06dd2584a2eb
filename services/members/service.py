"""members: the party member database and organisation tree (thin nameko entrypoints)."""
from nameko.rpc import rpc

from shared.auth import Caller
from shared.db import Database
from shared.errors import ValidationError
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.validation import load
from services.members import domain
from services.members.models import Base
from services.members.schemas import MemberCreate


class MembersService(Operations):
    name = "members"

    db = Database(Base.metadata)
    caller = Caller()
    telemetry = Telemetry()

    @rpc
    def get_me(self):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return domain.get_me(session, principal.member_id)

    @rpc
    def get_member(self, member_id):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return domain.get_member(session, principal.member_id, member_id)

    @rpc
    def get_organization(self, organization_id):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return domain.get_organization(session, principal.member_id, organization_id)

    @rpc
    def list_children(self, organization_id):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return domain.list_children(session, principal.member_id, organization_id)

    @rpc
    def create_member(self, data):
        principal = self.caller.require()
        data = load(MemberCreate(), data)
        with self.db.transaction() as session:
            actor = domain.load_actor(session, principal.member_id)
            org = session.get(domain.Organization, data["organization_id"])
            if org is None or not actor.manages(org.path):
                raise ValidationError(details={"organization_id": ["unknown organisation"]})
            member = domain.add_member(self.db, data, actor_id=principal.member_id)
            return domain.member_json(member)

    @rpc
    def member_snapshots(self, after_id=0, limit=1000):
        """Bulk read for other services rebuilding their projection of members."""
        with self.db.transaction() as session:
            return domain.snapshots_after(session, int(after_id), min(int(limit), 5000))
