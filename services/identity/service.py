"""identity: accounts, credentials, one-time codes, sessions (thin nameko entrypoints)."""
import logging

import eventlet
from nameko.extensions import DependencyProvider

from shared import config, metrics, registry
from shared.auth import Caller
from shared.context import CLIENT_ADDRESS_KEY, CORRELATION_ID_KEY, USER_AGENT_KEY
from shared.contracts.identity import (CodeRequest, CodeVerification, FreezeRequest, LoginRequest, PasswordChange,
                                       PhoneVerificationConfirm, PhoneVerificationRequest, RefreshRequest)
from shared.db import Database
from shared.entrypoints import rpc
from shared.errors import InvalidToken, ServiceUnavailable, SotayError
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.projection import reread_members
from shared.rpc import Rpc
from shared.subscriber import subscribe
from shared.validation import load
from services.identity import activation, domain, phones, recovery, vneid_signin
from services.identity.keys import KeyStore, keys_dir
from services.identity.models import Base

log = logging.getLogger(__name__)


class Vneid(DependencyProvider):
    """The VNeID OpenID Connect client (configured by VNEID_*; None when VNeID is not configured)."""

    def setup(self):
        from services.identity.vneid import DEFAULT_SCOPES, VneidClient, load_client_key

        issuer, key_file = config.get("VNEID_ISSUER"), config.get("VNEID_CLIENT_KEY_FILE")
        self.client = VneidClient(
            issuer, config.get("VNEID_CLIENT_ID"), config.get("VNEID_CLIENT_SECRET"),
            config.get("VNEID_REDIRECT_URI"), citizen_id_claim=config.get("VNEID_CITIZEN_ID_CLAIM", "citizen_id"),
            scopes=config.get("VNEID_SCOPES") or DEFAULT_SCOPES,
            client_key=load_client_key(key_file) if key_file else None,
        ) if issuer else None

    def get_dependency(self, worker_ctx):
        return self.client or _Unconfigured()


class _Unconfigured:
    def __getattr__(self, name):
        raise ServiceUnavailable(message="Đăng nhập VNeID chưa được cấu hình. / VNeID sign-in is not configured.")


class Keys(DependencyProvider):
    """The signing keys, loaded once per process."""

    def setup(self):
        # in production the keys are provisioned (every replica must sign with the same ones)
        self.store = KeyStore.open(keys_dir(), create=config.environment() != "production")
        if not self.store.jwks()["keys"]:
            raise RuntimeError(f"no signing keys in {keys_dir()}: provision them (python -m services.identity.keys rotate)")

    def get_dependency(self, worker_ctx):
        return self.store


def _local_jwks():
    return KeyStore.open(keys_dir(), create=False).jwks()


class _EndedSessionsTable:
    """Identity checks its own table: an end is refused here the moment it commits."""
    ready = True

    def __init__(self, container):
        self.database = next(d for d in container.dependencies if isinstance(d, Database))

    def check(self, session_id):
        with self.database.sessionmaker() as session:
            if domain.session_ended(session, session_id):
                raise InvalidToken(details={"reason": "session_ended"})


class IdentityService(Operations):
    name = "identity"

    db = Database(Base.metadata)
    keys = Keys()
    vneid = Vneid()
    caller = Caller(local_jwks=_local_jwks, ended_sessions=_EndedSessionsTable)
    cluster = Rpc(timeout=10)
    telemetry = Telemetry()

    def _client(self):
        context = self.db.context
        return {"address": context.get(CLIENT_ADDRESS_KEY), "correlation_id": context.get(CORRELATION_ID_KEY),
                "user_agent": context.get(USER_AGENT_KEY)}

    def _send(self, sms):
        # inside the transaction: if the SMS cannot be handed over, nothing is stored and the member may retry
        if sms is not None:
            self.cluster.notify.send_otp({"to": sms.to, "text": sms.text})

    def _tell(self, notice):
        # like a code: inside the transaction, so a notice that cannot be handed over undoes the change
        if notice is not None:
            self.cluster.notify.send_security_notice({"phone": notice.phone, "email": notice.email,
                                                      "subject": notice.subject, "text": notice.text})

    @rpc
    def jwks(self):
        return self.keys.jwks()

    @rpc
    def login(self, credentials):
        self.caller.require_service("gateway")
        request = load(LoginRequest(), credentials)
        try:
            # the slow hash first, outside the transaction (SQLite's writers take turns)
            matches = domain.password_matches(self.db.session, request["citizen_id"], request["password"])
            self.db.session.rollback()
            # a refused attempt is an answer: its audit entry and throttle count commit
            with self.db.transaction(commit_on=SotayError):
                tokens = domain.login(self.db, self.keys, request["citizen_id"], request["password"], self._client(),
                                      matches=matches)
        except SotayError as exc:
            metrics.LOGIN_ATTEMPTS.labels(exc.code).inc()
            raise
        metrics.LOGIN_ATTEMPTS.labels("success").inc()
        return tokens

    @rpc
    def refresh(self, body):
        self.caller.require_service("gateway")
        request = load(RefreshRequest(), body)
        # a detected re-use revokes the family even though the call is refused
        with self.db.transaction(commit_on=SotayError):
            return domain.refresh(self.db, self.keys, request["refresh_token"], self._client())

    @rpc
    def logout(self):
        principal = self.caller.require()
        with self.db.transaction():
            domain.logout(self.db, principal, self._client())
        return {"status": "signed_out"}

    def _request_code(self, purpose, body):
        request = load(CodeRequest(), body)
        with self.db.transaction() as session:
            answer, sms = activation.request_code(session, purpose, request["citizen_id"], request["phone"],
                                                  self._client()["address"])
            domain.audit(session, purpose, activation.audit_outcome(answer, session), citizen_id=request["citizen_id"],
                         client=self._client())
        # handed to notify after the answer, so a member's request takes as long as a stranger's
        # (for whom nothing is sent); a code lost on the way is asked for again after 60 s
        if sms is not None:
            eventlet.spawn_n(self._send_quietly, self.cluster.notify, sms)
        return answer

    @staticmethod
    def _send_quietly(notify, sms):
        try:
            notify.send_otp({"to": sms.to, "text": sms.text})
        except Exception as exc:
            log.error("a code could not be handed to notify: %s", type(exc).__name__)

    def _verify_code(self, purpose, challenge_id, body):
        request = load(CodeVerification(), body)
        with self.db.transaction(commit_on=SotayError) as session:   # a wrong code counts
            account, entry, challenge, previous = activation.verify(session, challenge_id, purpose, request["otp"],
                                                                    request["new_password"])
            if purpose == activation.ACTIVATION:
                self.db.publish("identity.account_activated", {"member_id": entry.member_id, "method": "sms"})
            else:
                domain.revoke_all(self.db, account.id)
                self.db.publish("identity.password_changed", {"member_id": entry.member_id})
                self._tell(phones.notice(session, entry, account, "password_reset", previous_phone=previous or ""))
            domain.audit(session, purpose, "completed", citizen_id=entry.citizen_id, member_id=entry.member_id,
                         client=self._client())
            return domain.issue_tokens(session, self.keys, account, entry, client=self._client())

    @rpc
    def start_activation(self, body):
        self.caller.require_service("gateway")
        return self._request_code(activation.ACTIVATION, body)

    @rpc
    def verify_activation(self, challenge_id, body):
        self.caller.require_service("gateway")
        return self._verify_code(activation.ACTIVATION, challenge_id, body)

    @rpc
    def start_password_reset(self, body):
        self.caller.require_service("gateway")
        return self._request_code(activation.PASSWORD_RESET, body)

    @rpc
    def verify_password_reset(self, challenge_id, body):
        self.caller.require_service("gateway")
        return self._verify_code(activation.PASSWORD_RESET, challenge_id, body)

    @rpc
    def challenge_status(self, challenge_id):
        self.caller.require_service("gateway")
        with self.db.transaction() as session:
            return activation.challenge_status(session, challenge_id)

    @rpc
    def pending_phone_requests(self):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return recovery.pending_requests(session, principal.member_id, recovery.OFFICERS)

    @rpc
    def decide_phone_request(self, challenge_id, approve):
        return self._decide(self.caller.require(), challenge_id, approve, recovery.OFFICERS)

    @rpc
    def recovery_requests(self):
        """Recovery of accounts holding a position: system administrators only."""
        principal = self.caller.require()
        with self.db.transaction() as session:
            return recovery.pending_requests(session, principal.member_id, recovery.ADMINISTRATORS)

    @rpc
    def decide_recovery_request(self, challenge_id, approve):
        return self._decide(self.caller.require(), challenge_id, approve, recovery.ADMINISTRATORS)

    def _decide(self, principal, challenge_id, approve, queue):
        with self.db.transaction() as session:
            sms = recovery.decide(session, principal.member_id, str(challenge_id), bool(approve), queue)
            domain.audit(session, f"phone_confirmation_{queue}", "approved" if approve else "denied",
                         member_id=principal.member_id, client=self._client(), detail={"challenge_id": challenge_id})
            self._send(sms)
        return {"status": "code_sent" if approve else "denied"}

    @rpc
    def freeze(self, body):
        self.caller.require_service("gateway")
        request = load(FreezeRequest(), body)
        with self.db.transaction(commit_on=SotayError) as session:
            try:
                member_id = recovery.freeze(self.db, request["code"])
            except SotayError:
                domain.audit(session, "freeze", "invalid_code", client=self._client())
                raise
            domain.audit(session, "freeze", "frozen", member_id=member_id, client=self._client())
        return {"status": "frozen"}

    @rpc
    def frozen_accounts(self):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return recovery.frozen_accounts(session, principal.member_id)

    @rpc
    def release_account(self, member_id):
        principal = self.caller.require()
        with self.db.transaction() as session:
            entry = recovery.release(session, principal.member_id, int(member_id))
            domain.audit(session, "freeze", "released", citizen_id=entry.citizen_id, member_id=entry.member_id,
                         client=self._client(), detail={"released_by": principal.member_id})
        return {"status": "released"}

    @rpc
    def start_phone_verification(self, body):
        principal = self.caller.require()
        request = load(PhoneVerificationRequest(), body or {})
        with self.db.transaction() as session:
            answer, sms = phones.start_verification(session, principal, request["phone"], self._client()["address"])
            domain.audit(session, "phone_verification", "code_sent", citizen_id=principal.citizen_id,
                         member_id=principal.member_id, client=self._client())
            self._send(sms)
        return answer

    @rpc
    def confirm_phone_verification(self, challenge_id, body):
        principal = self.caller.require()
        request = load(PhoneVerificationConfirm(), body)
        with self.db.transaction(commit_on=SotayError) as session:   # wrong passwords and codes count
            try:
                notice = phones.confirm_verification(session, principal, str(challenge_id), request["otp"],
                                                     request["current_password"])
            except SotayError as exc:
                domain.audit(session, "phone_verification", exc.code, citizen_id=principal.citizen_id,
                             member_id=principal.member_id, client=self._client())
                raise
            domain.audit(session, "phone_verification", "verified", citizen_id=principal.citizen_id,
                         member_id=principal.member_id, client=self._client())
            self._tell(notice)
        return {"status": "verified"}

    @rpc
    def change_password(self, body):
        principal = self.caller.require()
        request = load(PasswordChange(), body)
        with self.db.transaction(commit_on=SotayError):
            domain.change_password(self.db, principal, request["current_password"], request["new_password"],
                                   self._client())
        return {"status": "password_changed"}

    @rpc
    def list_sessions(self):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return domain.list_sessions(session, principal)

    @rpc
    def revoke_session(self, session_id):
        principal = self.caller.require()
        with self.db.transaction():
            domain.revoke_session(self.db, principal, str(session_id), self._client())
        return {"status": "revoked"}

    @rpc
    def ended_sessions(self):
        """Sessions ended while their access tokens may still be alive: what every other service
        restores when it starts and after a reconnection (shared/revocation.py)."""
        self.caller.require_service(*registry.names())    # every service keeps them
        with self.db.transaction() as session:
            return domain.ended_sessions(session)

    @rpc
    def vneid_begin(self, browser_secret):
        """The VNeID authorize URL for a browser that holds `browser_secret` (in a cookie)."""
        self.caller.require_service("gateway")
        with self.db.transaction() as session:
            return {"url": vneid_signin.begin(session, self.vneid, browser_secret)}

    @rpc
    def vneid_complete(self, state, code, browser_secret, iss=None):
        """Tokens for VNeID's callback; `iss` is the authorization response's issuer (RFC 9207) when it sent one."""
        self.caller.require_service("gateway")
        with self.db.transaction(commit_on=SotayError):
            return vneid_signin.complete(self.db, self.vneid, self.keys, state, code, browser_secret, self._client(),
                                         iss=iss)

    def _project(self, session, snapshot, imported=False):
        self._tell(phones.project_member(session, snapshot, imported))
        domain.end_sessions_of_leaver(self.db, snapshot["member_id"])

    @subscribe("members", "members.member_created")
    def on_member_created(self, envelope):
        self.db.once(envelope, self._project)

    @subscribe("members", "members.member_updated")
    def on_member_updated(self, envelope):
        self.db.once(envelope, self._project)

    @subscribe("members", "members.position_changed")
    def on_position_changed(self, envelope):
        self.db.once(envelope, domain.project_position)

    @subscribe("members", "members.org_rollout_changed")
    def on_rollout_changed(self, envelope):
        self.db.once(envelope, domain.project_rollout)

    @subscribe("members", "members.members_imported")
    def on_members_imported(self, envelope):
        # an import is the party member database speaking: its phones are trusted (phones.py)
        reread_members(self.db, self.cluster.members, envelope,
                       lambda session, snapshot: self._project(session, snapshot, imported=True))
