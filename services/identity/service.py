"""identity: accounts, credentials, one-time codes, sessions (thin nameko entrypoints)."""

import logging
from contextlib import contextmanager

import eventlet
from nameko.extensions import DependencyProvider

from shared import config, metrics, registry
from shared.auth import Caller
from shared.contracts.identity import (
    CodeRequest,
    CodeVerification,
    FreezeRequest,
    LoginRequest,
    PasswordChange,
    PhoneVerificationConfirm,
    PhoneVerificationRequest,
    RefreshRequest,
)
from shared.db import Database
from shared.errors import InvalidToken, ServiceUnavailable, SotayError
from shared.kit import ANYONE, MEMBER, Service, command, member_through, query, services
from shared.projection import reread_members
from shared.rpc import Rpc
from shared.subscriber import subscribe
from services.identity import activation, domain, phones, policy, privacy, recovery, vneid_signin
from services.identity.keys import KeyStore, keys_dir
from services.identity.models import Base, directory
from services.identity.trail import client_of

log = logging.getLogger(__name__)


class Vneid(DependencyProvider):
    """The VNeID OpenID Connect client (configured by VNEID_*; None when VNeID is not configured)."""

    def setup(self):
        from services.identity.vneid import DEFAULT_SCOPES, VneidClient, load_client_key

        issuer, key_file = config.get("VNEID_ISSUER"), config.get("VNEID_CLIENT_KEY_FILE")
        self.client = (
            VneidClient(
                issuer,
                config.get("VNEID_CLIENT_ID"),
                config.get("VNEID_CLIENT_SECRET"),
                config.get("VNEID_REDIRECT_URI"),
                citizen_id_claim=config.get("VNEID_CITIZEN_ID_CLAIM", "citizen_id"),
                scopes=config.get("VNEID_SCOPES") or DEFAULT_SCOPES,
                client_key=load_client_key(key_file) if key_file else None,
            )
            if issuer
            else None
        )

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
            raise RuntimeError(
                f"no signing keys in {keys_dir()}: provision them (python -m services.identity.keys rotate)"
            )

    def get_dependency(self, worker_ctx):
        return self.store


@contextmanager
def counted_login():
    """Every sign-in attempt counted by its outcome (sotay_login_attempts_total)."""
    try:
        yield
    except SotayError as exc:
        metrics.LOGIN_ATTEMPTS.labels(exc.code).inc()
        raise
    metrics.LOGIN_ATTEMPTS.labels("success").inc()


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


class IdentityService(Service):
    name = "identity"

    db = Database(Base.metadata)
    keys = Keys()
    vneid = Vneid()
    caller = Caller(local_jwks=_local_jwks, ended_sessions=_EndedSessionsTable)
    cluster = Rpc(timeout=10)

    def _send(self, sms):
        # inside the transaction: if the SMS cannot be handed over, nothing is stored and the member may retry
        if sms is not None:
            self.cluster.notify.send_otp({"to": sms.to, "text": sms.text})

    def _tell(self, notice):
        # like a code: inside the transaction, so a notice that cannot be handed over undoes the change
        if notice is not None:
            self.cluster.notify.send_security_notice(
                {"phone": notice.phone, "email": notice.email, "subject": notice.subject, "text": notice.text}
            )

    def _send_after_answer(self, unit, sms):
        # handed to notify once the request is stored, beside the answer, so a member's request takes as long as
        # a stranger's (for whom nothing is sent); a code lost on the way is asked for again after 60 s
        if sms is not None:
            unit.after_commit(lambda: eventlet.spawn_n(self._send_quietly, self.cluster.notify, sms))

    @staticmethod
    def _send_quietly(notify, sms):
        try:
            notify.send_otp({"to": sms.to, "text": sms.text})
        except Exception as exc:
            log.error("a code could not be handed to notify: %s", type(exc).__name__)

    @query(caller=ANYONE)
    def jwks(self, session, principal):
        return self.keys.jwks()

    @query(caller=ANYONE)
    def password_policy(self, session, principal):
        return policy.summary()

    @command(caller=services("gateway"), body=LoginRequest, in_steps=True)
    def login(self, unit, principal, data):
        with counted_login():
            return domain.login(unit, self.keys, data["citizen_id"], data["password"], client_of(unit))

    @command(caller=services("gateway"), body=RefreshRequest, commit_on=SotayError)
    def refresh(self, unit, principal, data):
        # a detected re-use revokes the family even though the call is refused
        return domain.refresh(unit, self.keys, data["refresh_token"], client_of(unit))

    @command(caller=MEMBER)
    def logout(self, unit, principal):
        domain.logout(unit, principal, client_of(unit))
        return {"status": "signed_out"}

    @command(caller=services("gateway"), body=CodeRequest)
    def start_activation(self, unit, principal, data):
        return self._start_code(unit, activation.ACTIVATION, data)

    @command(caller=services("gateway"), body=CodeVerification, commit_on=SotayError)
    def verify_activation(self, unit, principal, challenge_id, data):
        return self._complete_code(unit, activation.ACTIVATION, challenge_id, data)

    @command(caller=services("gateway"), body=CodeRequest)
    def start_password_reset(self, unit, principal, data):
        return self._start_code(unit, activation.PASSWORD_RESET, data)

    @command(caller=services("gateway"), body=CodeVerification, commit_on=SotayError)
    def verify_password_reset(self, unit, principal, challenge_id, data):
        return self._complete_code(unit, activation.PASSWORD_RESET, challenge_id, data)

    def _start_code(self, unit, purpose, data):
        answer, sms = domain.start_code(unit, purpose, data["citizen_id"], data["phone"], client_of(unit))
        self._send_after_answer(unit, sms)
        return answer

    def _complete_code(self, unit, purpose, challenge_id, data):
        tokens, notice = domain.complete_code(
            unit, self.keys, purpose, challenge_id, data["otp"], data["new_password"], client_of(unit)
        )
        self._tell(notice)
        return tokens

    @query(caller=services("gateway"))
    def challenge_status(self, session, principal, challenge_id):
        return activation.challenge_status(session, challenge_id)

    @query(caller=MEMBER)
    def pending_phone_requests(self, session, principal):
        return recovery.pending_requests(session, principal.member_id, recovery.OFFICERS)

    @command(caller=MEMBER)
    def decide_phone_request(self, unit, principal, challenge_id, approve):
        return self._decide(unit, principal, challenge_id, approve, recovery.OFFICERS)

    @query(caller=MEMBER)
    def recovery_requests(self, session, principal):
        """Recovery of accounts holding a position: system administrators only."""
        return recovery.pending_requests(session, principal.member_id, recovery.ADMINISTRATORS)

    @command(caller=MEMBER)
    def decide_recovery_request(self, unit, principal, challenge_id, approve):
        return self._decide(unit, principal, challenge_id, approve, recovery.ADMINISTRATORS)

    def _decide(self, unit, principal, challenge_id, approve, queue):
        self._send(recovery.decide(unit, principal.member_id, str(challenge_id), bool(approve), queue, client_of(unit)))
        return {"status": "code_sent" if approve else "denied"}

    @command(caller=services("gateway"), body=FreezeRequest, commit_on=SotayError)
    def freeze(self, unit, principal, data):
        recovery.freeze(unit, data["code"], client_of(unit))
        return {"status": "frozen"}

    @query(caller=MEMBER)
    def frozen_accounts(self, session, principal):
        return recovery.frozen_accounts(session, principal.member_id)

    @command(caller=MEMBER)
    def release_account(self, unit, principal, member_id):
        recovery.release(unit, principal.member_id, int(member_id), client_of(unit))
        return {"status": "released"}

    @command(caller=MEMBER, body=PhoneVerificationRequest)
    def start_phone_verification(self, unit, principal, data=None):
        answer, sms = phones.start_verification(unit, principal, data["phone"], client_of(unit))
        self._send(sms)
        return answer

    @command(caller=MEMBER, body=PhoneVerificationConfirm, commit_on=SotayError)  # wrong passwords and codes count
    def confirm_phone_verification(self, unit, principal, challenge_id, data):
        self._tell(
            phones.confirm_verification(
                unit, principal, str(challenge_id), data["otp"], data["current_password"], client_of(unit)
            )
        )
        return {"status": "verified"}

    @command(caller=MEMBER, body=PasswordChange, commit_on=SotayError)
    def change_password(self, unit, principal, data):
        domain.change_password(unit, principal, data["current_password"], data["new_password"], client_of(unit))
        return {"status": "password_changed"}

    @query(caller=MEMBER)
    def list_sessions(self, session, principal):
        return domain.list_sessions(session, principal)

    @command(caller=MEMBER)
    def revoke_session(self, unit, principal, session_id):
        domain.revoke_session(unit, principal, str(session_id), client_of(unit))
        return {"status": "revoked"}

    @query(caller=services(*registry.names()))  # every service keeps them
    def ended_sessions(self, session, principal):
        """Sessions ended while their access tokens may still be alive: what every other service
        restores when it starts and after a reconnection (shared/revocation.py)."""
        return domain.ended_sessions(session)

    @command(caller=services("gateway"))
    def vneid_begin(self, unit, principal, browser_secret):
        """The VNeID authorize URL for a browser that holds `browser_secret` (in a cookie)."""
        return {"url": vneid_signin.begin(unit, self.vneid, browser_secret)}

    @command(caller=services("gateway"), commit_on=SotayError)
    def vneid_complete(self, unit, principal, state, code, browser_secret, iss=None):
        """Tokens for VNeID's callback; `iss` is the authorization response's issuer (RFC 9207) when it sent one."""
        return vneid_signin.complete(unit, self.vneid, self.keys, state, code, browser_secret, client_of(unit), iss=iss)

    @query(caller=member_through("gateway"))
    def export_member(self, session, principal, member_id):
        return privacy.export(session, principal, member_id)

    @command(caller=member_through("members"))
    def erase_member(self, unit, principal, member_id, reason):
        """Ordered by members, which decided it (an administrator asked, with a reason): see privacy.py."""
        return privacy.erase(unit, principal, int(member_id), str(reason), client_of(unit))

    def _project(self, session, snapshot, imported=False):
        self._tell(phones.project_member(session, snapshot, imported))
        domain.end_sessions_of_leaver(self.db, snapshot["member_id"])

    def _member_changed(self, session, envelope):
        self._project(session, envelope["payload"])

    @subscribe("members", "members.member_created")
    def on_member_created(self, envelope):
        self.db.once(envelope, self._member_changed)

    @subscribe("members", "members.member_updated")
    def on_member_updated(self, envelope):
        self.db.once(envelope, self._member_changed)

    @subscribe("members", "members.position_changed")
    def on_position_changed(self, envelope):
        self.db.once(envelope, directory.position_changed)

    @subscribe("members", "members.org_rollout_changed")
    def on_rollout_changed(self, envelope):
        self.db.once(envelope, directory.rollout_changed)

    @subscribe("members", "members.member_erased")
    def on_member_erased(self, envelope):
        self.db.once(envelope, directory.member_erased)

    @subscribe("members", "members.members_imported")
    def on_members_imported(self, envelope):
        # an import is the party member database speaking: its phones are trusted (phones.py)
        reread_members(
            self.db,
            self.cluster.members,
            envelope,
            lambda session, snapshot: self._project(session, snapshot, imported=True),
        )
