"""Sign-in with VNeID: the server side of the OpenID Connect flow.

`begin` keeps the state, nonce and PKCE verifier server-side, bound to one
browser (a hash of a secret the gateway keeps in that browser's cookie);
`complete` accepts each state once, within 10 minutes, from that browser only,
then lets the OIDC client validate the ID token. Only a citizen ID present in
the member database gets an account; the first VNeID sign-in activates it.
"""

import hashlib
import hmac
from datetime import timedelta

from sqlalchemy import select

from shared.contracts.common import left_party
from shared.contracts.identity import AccountFrozen, NotAMember, NotRolledOut, VneidFailed
from shared.db import aware, utcnow
from services.identity import activation
from services.identity.domain import issue_tokens
from services.identity.models import Account, DirectoryEntry, OidcState, VneidLink
from services.identity.trail import audit
from services.identity.vneid import VneidError

STATE_TTL = timedelta(minutes=10)


def _browser_hash(secret):
    return hashlib.sha256((secret or "").encode()).hexdigest()


def begin(uow, client, browser_secret):
    authorization = client.start()
    uow.session.add(
        OidcState(
            state=authorization.state,
            nonce=authorization.nonce,
            code_verifier=authorization.code_verifier,
            browser_hash=_browser_hash(browser_secret),
            expires_at=utcnow() + STATE_TTL,
        )
    )
    return authorization.url


def complete(uow, client, keystore, state, code, browser_secret, client_info=None, iss=None):
    """Tokens for a valid callback. Errors are answers: commit on them (the state is spent)."""
    session = uow.session
    row = session.get(OidcState, state or "", with_for_update=True)  # a state is spent on one replica only
    if (
        row is None
        or row.used_at is not None
        or aware(row.expires_at) <= utcnow()
        or not hmac.compare_digest(row.browser_hash, _browser_hash(browser_secret))
    ):
        audit(session, "login_vneid", "invalid_state", client=client_info)
        raise VneidFailed(details={"reason": "invalid_state"})
    row.used_at = utcnow()
    try:
        identity = client.finish(code, row.code_verifier, row.nonce, iss=iss)
    except VneidError as exc:
        audit(session, "login_vneid", exc.reason, client=client_info)
        raise VneidFailed(details={"reason": exc.reason}) from None
    link = session.get(VneidLink, {"issuer": identity.issuer, "subject": identity.subject})
    if link is not None and link.citizen_id != identity.citizen_id:
        audit(session, "login_vneid", "subject_mismatch", citizen_id=identity.citizen_id, client=client_info)
        raise VneidFailed(details={"reason": "subject_mismatch"})
    entry = session.scalar(select(DirectoryEntry).where(DirectoryEntry.citizen_id == identity.citizen_id))
    if entry is None or left_party(entry.status):
        audit(
            session,
            "login_vneid",
            "not_a_member" if entry is None else "left_party",
            citizen_id=identity.citizen_id,
            client=client_info,
        )
        raise NotAMember()
    account = session.scalar(select(Account).where(Account.citizen_id == identity.citizen_id))
    if account is not None and account.frozen_at is not None:
        audit(session, "login_vneid", "frozen", citizen_id=identity.citizen_id, client=client_info)
        raise AccountFrozen()
    if account is None or account.activated_at is None:
        if not activation.rolled_out(session, entry.organization_path):
            raise NotRolledOut()
        if account is None:
            account = Account(citizen_id=identity.citizen_id)
            session.add(account)
        account.activated_at = utcnow()
        account.activation_method = "vneid"
        session.flush()
        uow.publish("identity.account_activated", {"member_id": entry.member_id, "method": "vneid"})
        audit(
            session,
            "activation",
            "completed_vneid",
            citizen_id=entry.citizen_id,
            member_id=entry.member_id,
            client=client_info,
        )
    if link is None:
        session.add(VneidLink(issuer=identity.issuer, subject=identity.subject, citizen_id=identity.citizen_id))
    audit(session, "login_vneid", "success", citizen_id=entry.citizen_id, member_id=entry.member_id, client=client_info)
    return issue_tokens(session, keystore, account, entry, client=client_info)
