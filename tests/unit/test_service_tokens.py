"""Service tokens: what a forged, replayed, stale or misdirected one meets (no broker)."""

import os
import subprocess
import sys
import time

import jwt
import pytest
from prometheus_client import REGISTRY

from shared import config, service_tokens
from shared.errors import Forbidden, InvalidToken, Unauthenticated
from shared.service_tokens import ServiceSigner, TrustedServices, create_key_pair, require_service


@pytest.fixture
def directory(tmp_path):
    return tmp_path / "service-keys"


@pytest.fixture
def identity(directory):
    return ServiceSigner("identity", create_key_pair(directory, "identity"))


def test_key_files_are_private_and_a_second_creation_keeps_the_key(directory):
    first = create_key_pair(directory, "notify")
    again = create_key_pair(directory, "notify")
    assert first.private_bytes_raw() == again.private_bytes_raw()
    assert (directory / "notify.key").stat().st_mode & 0o777 == 0o600
    assert directory.stat().st_mode & 0o777 == 0o700


def test_a_token_names_its_signer_to_its_audience_only(directory, identity):
    token = identity.token_for("notify")
    assert TrustedServices("notify", directory).verify(token) == "identity"
    with pytest.raises(InvalidToken):
        TrustedServices("members", directory).verify(token)


def test_a_token_is_reused_until_close_to_expiry_then_renewed(identity):
    now = time.time()
    token = identity.token_for("notify", now=now)
    assert identity.token_for("notify", now=now + service_tokens.LIFETIME - service_tokens.RENEW_BEFORE - 1) == token
    assert identity.token_for("notify", now=now + service_tokens.LIFETIME - service_tokens.RENEW_BEFORE + 1) != token
    assert identity.token_for("members", now=now) != token


def test_an_access_token_is_not_a_service_token(directory):
    from services.identity.keys import KeyStore

    store = KeyStore.open(directory.parent / "identity-keys")
    now = int(time.time())
    access = store.sign({"iss": "identity", "aud": "notify", "sub": "7", "sid": "s", "iat": now, "exp": now + 60})
    with pytest.raises(InvalidToken) as refused:
        TrustedServices("notify", directory).verify(access)
    assert refused.value.details["reason"] == "not_a_service_token"


def test_an_unlisted_service_is_forbidden_and_no_token_is_unauthenticated(directory, identity):
    trusted = TrustedServices("notify", directory)
    assert require_service(trusted, identity.token_for("notify"), ("identity",)) == "identity"
    with pytest.raises(Forbidden):
        require_service(trusted, identity.token_for("notify"), ("gateway",))
    with pytest.raises(Unauthenticated):
        require_service(trusted, None, ("identity",))
    with pytest.raises(InvalidToken):
        require_service(trusted, "garbage", ("identity",))
    refused = REGISTRY.get_sample_value(
        "sotay_service_calls_refused_total", {"service": "notify", "reason": "service_not_allowed"}
    )
    assert refused and refused >= 1  # counted, for the ServiceCallsRefused alert


def test_a_rotated_key_is_picked_up_once_its_tokens_arrive(directory, identity, monkeypatch):
    trusted = TrustedServices("notify", directory)
    trusted.verify(identity.token_for("notify"))
    for name in ("identity.key", "identity.pub"):
        os.unlink(directory / name)
    rotated = ServiceSigner("identity", create_key_pair(directory, "identity"))
    monkeypatch.setattr(service_tokens, "RELOAD_EVERY", 0.0)
    assert trusted.verify(rotated.token_for("notify")) == "identity"
    with pytest.raises(InvalidToken):  # the old key's tokens no longer verify
        trusted.verify(
            jwt.encode(
                {"iss": "identity", "aud": "notify", "iat": int(time.time()), "exp": int(time.time()) + 60},
                identity._key,
                algorithm="EdDSA",
                headers={"typ": service_tokens.TOKEN_TYPE},
            )
        )


def test_production_never_creates_a_key_and_says_what_is_missing(tmp_path):
    env = {**os.environ, "SOTAY_ENV": "production", "DATA_DIR": str(tmp_path), "AMQP_URI": "amqp://nobody@127.0.0.1:1/"}
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "prepare", "notify"],
        env=env,
        cwd=config.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "no service key" in done.stderr and "SERVICE_KEY_FILE" in done.stderr
    assert not (tmp_path / "service-keys").exists()


def test_during_a_rotation_both_public_keys_of_a_service_are_trusted(directory, identity, tmp_path):
    trusted = TrustedServices("notify", directory)
    successor = ServiceSigner("identity", create_key_pair(directory, "identity", tmp_path / "next"))
    os.replace(directory / "identity.pub", directory / "identity.next.pub")
    create_key_pair(directory, "identity")  # the current key's public file again
    assert trusted.verify(identity.token_for("notify")) == "identity"
    assert trusted.verify(successor.token_for("notify")) == "identity"


def test_each_hop_sends_its_own_token_never_the_one_it_was_called_with(directory):
    from nameko.rpc import Client

    from shared.context import SERVICE_TOKEN_KEY
    from shared.rpc import signed_for

    gateway = ServiceSigner("gateway", create_key_pair(directory, "gateway"))
    identity = ServiceSigner("identity", create_key_pair(directory, "identity"))
    received = {SERVICE_TOKEN_KEY: gateway.token_for("identity"), "correlation_id": "c0ffee00"}
    outgoing = signed_for(Client(None, None, received), "notify", identity).send_otp
    assert TrustedServices("notify", directory).verify(outgoing.context_data[SERVICE_TOKEN_KEY]) == "identity"
    assert outgoing.context_data["correlation_id"] == "c0ffee00"
    assert received[SERVICE_TOKEN_KEY] == gateway.token_for("identity")  # the worker's own context untouched
