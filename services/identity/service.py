"""identity: accounts, credentials and tokens (thin nameko entrypoints)."""
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from shared import metrics
from shared.auth import Caller
from shared.context import CLIENT_ADDRESS_KEY, CORRELATION_ID_KEY
from shared.db import Database
from shared.errors import SotayError
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.subscriber import subscribe
from shared.validation import load
from services.identity import domain
from services.identity.keys import KeyStore, keys_dir
from services.identity.models import Base
from services.identity.schemas import LoginRequest, RefreshRequest


class Keys(DependencyProvider):
    """The signing keys, loaded once per process."""

    def setup(self):
        self.store = KeyStore.open(keys_dir())

    def get_dependency(self, worker_ctx):
        return self.store


def _local_jwks():
    return KeyStore.open(keys_dir()).jwks()


class IdentityService(Operations):
    name = "identity"

    db = Database(Base.metadata)
    keys = Keys()
    caller = Caller(local_jwks=_local_jwks)
    telemetry = Telemetry()

    def _client(self):
        context = self.db.context
        return {"address": context.get(CLIENT_ADDRESS_KEY), "correlation_id": context.get(CORRELATION_ID_KEY)}

    @rpc
    def jwks(self):
        return self.keys.jwks()

    @rpc
    def login(self, credentials):
        request = load(LoginRequest(), credentials)
        try:
            # a refused attempt is an answer: its audit entry commits
            with self.db.transaction(commit_on=SotayError) as session:
                tokens = domain.login(session, self.keys, request["citizen_id"], request["password"],
                                      self._client())
        except SotayError as exc:
            metrics.LOGIN_ATTEMPTS.labels(exc.code).inc()
            raise
        metrics.LOGIN_ATTEMPTS.labels("success").inc()
        return tokens

    @rpc
    def refresh(self, body):
        request = load(RefreshRequest(), body)
        # a detected re-use revokes the family even though the call is refused
        with self.db.transaction(commit_on=SotayError) as session:
            return domain.refresh(session, self.keys, request["refresh_token"], self._client())

    @rpc
    def logout(self):
        principal = self.caller.require()
        with self.db.transaction() as session:
            domain.logout(session, principal, self._client())
        return {"status": "signed_out"}

    @subscribe("members", "members.member_created")
    def on_member_created(self, envelope):
        self._project(envelope)

    @subscribe("members", "members.member_updated")
    def on_member_updated(self, envelope):
        self._project(envelope)

    def _project(self, envelope):
        with self.db.transaction() as session:
            if self.db.claim(envelope):
                domain.project_member(session, envelope["payload"])
