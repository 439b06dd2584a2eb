"""Issue 8 item 8: with access to the broker but no service token, nobody reads members or sends an SMS.

An attacker here is anyone who can publish to `nameko-rpc` (a plain nameko client, no HTTP, no gateway).
"""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcClient

from shared import config
from shared.errors import Forbidden, InvalidToken, Unauthenticated, from_remote

CODE = {"to": "+84900000042", "text": "Sổ tay: mã 123456 (gửi bởi kẻ lạ)"}


def sms_sent():
    path = config.data_dir() / "outbox" / "sms.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def call(service, method, *args, context=None):
    with ClusterRpcClient(context_data=context or {}, uri=config.amqp_uri()) as client:
        try:
            return client[service][method](*args)
        except RemoteError as exc:
            raise (from_remote(exc) or exc) from None


@pytest.fixture
def notify(prepare, containers):
    containers(prepare("notify"))


@pytest.fixture
def members(prepare, containers, members_uow):
    containers(prepare("members"))


def test_without_a_token_notify_sends_no_sms_and_members_gives_no_snapshot(notify, members):
    with pytest.raises(Unauthenticated) as refused:
        call("notify", "send_otp", CODE)
    assert refused.value.status == 401
    with pytest.raises(Unauthenticated):
        call("members", "member_snapshots", 0, 100)
    # an end user's context without a service token is no better
    with pytest.raises(Unauthenticated):
        call("notify", "send_otp", CODE, context={"auth_token": "not-a-service-token"})
    assert sms_sent() == []


def _forge(key, issuer, audience, lifetime=60, issued=None):
    issued = int(time.time()) if issued is None else issued
    return jwt.encode(
        {"iss": issuer, "sub": issuer, "aud": audience, "iat": issued, "exp": issued + lifetime},
        key,
        algorithm="EdDSA",
        headers={"typ": "sotay-service+jwt", "kid": issuer},
    )


def _as(token):
    from shared.context import SERVICE_TOKEN_KEY

    return {SERVICE_TOKEN_KEY: token}


@pytest.fixture
def identity_key(settings):
    from shared import service_tokens

    return service_tokens.ensure_key_pair("identity")


def test_a_token_signed_by_a_key_outside_the_trusted_directory_is_refused(notify, identity_key):
    stranger = Ed25519PrivateKey.generate()  # claims to be identity, signed by someone else
    with pytest.raises(InvalidToken):
        call("notify", "send_otp", CODE, context=_as(_forge(stranger, "identity", "notify")))
    assert sms_sent() == []


def test_identity_with_its_own_key_sends_a_code_and_reads_snapshots(notify, members, identity_key):
    assert call("notify", "send_otp", CODE, context=_as(_forge(identity_key, "identity", "notify"))) == {
        "status": "sent"
    }
    assert [m["to"] for m in sms_sent()] == [CODE["to"]]
    page = call("members", "member_snapshots", 0, 100, context=_as(_forge(identity_key, "identity", "members")))
    assert len(page) == 15


@pytest.fixture
def gateway_key(settings):
    from shared import service_tokens

    return service_tokens.ensure_key_pair("gateway")


def test_an_expired_token_a_token_for_another_service_and_an_unlisted_caller_are_refused(
    identity_key, gateway_key, notify
):
    long_ago = int(time.time()) - 600
    with pytest.raises(InvalidToken) as expired:
        call("notify", "send_otp", CODE, context=_as(_forge(identity_key, "identity", "notify", issued=long_ago)))
    assert expired.value.details["reason"] == "expired"
    with pytest.raises(InvalidToken):  # meant for members: replayed to notify
        call("notify", "send_otp", CODE, context=_as(_forge(identity_key, "identity", "members")))
    with pytest.raises(InvalidToken):  # a token that would live for a day
        call("notify", "send_otp", CODE, context=_as(_forge(identity_key, "identity", "notify", lifetime=86400)))
    with pytest.raises(Forbidden):  # a trusted service, but not one notify lets send codes
        call("notify", "send_otp", CODE, context=_as(_forge(gateway_key, "gateway", "notify")))
    assert sms_sent() == []


def test_sign_in_attempts_over_the_broker_go_only_through_the_gateway(prepare, containers, identity_key):
    """The gateway's per-address limit cannot be bypassed by calling identity directly."""
    from sqlalchemy import func, select

    from shared.db import standalone_unit
    from services.identity.models import AuditEvent, Base

    containers(prepare("identity"))
    attempt = {"citizen_id": "001000000002", "password": "đoán thử mật khẩu"}
    with pytest.raises(Unauthenticated):
        call("identity", "login", attempt)
    with pytest.raises(Forbidden):  # a trusted service, but sign-in is the gateway's to ask
        call("identity", "login", attempt, context=_as(_forge(identity_key, "identity", "identity")))
    for method, args in (
        ("start_activation", ({"citizen_id": "001000000003"},)),
        ("start_password_reset", ({"citizen_id": "001000000003"},)),
        ("refresh", ({"refresh_token": "x" * 43},)),
        ("challenge_status", ("any",)),
        ("vneid_begin", ("secret",)),
    ):
        with pytest.raises(Unauthenticated):
            call("identity", method, *args)
    unit, database = standalone_unit(Base.metadata, "identity")
    try:
        assert unit.session.scalar(select(func.count()).select_from(AuditEvent)) == 0  # not one attempt counted
    finally:
        unit.close()
        database.engine.dispose()
