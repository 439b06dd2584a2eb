"""Access-token verification: what a forged or stale token meets at every service."""

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import TokenVerifier
from shared.errors import InvalidToken
from services.identity.keys import KeyStore, generate_key


@pytest.fixture
def store(tmp_path):
    return KeyStore.open(tmp_path / "keys")


@pytest.fixture
def verifier(store):
    return TokenVerifier(store.jwks)


def claims(**overrides):
    now = int(time.time())
    base = {
        "iss": "sotay-identity",
        "aud": "sotay-api",
        "sub": "7",
        "cid": "001000000002",
        "sid": "family-1",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_identity_signs_exactly_what_pyjwt_would(store):
    # KeyStore.sign assembles the JWS itself; Ed25519 is deterministic, so the two tokens are the same bytes
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    for payload in (claims(), claims(iat=now, exp=now + timedelta(minutes=15), jti="j-1", cid="Đỗ")):
        kid = store.signing_kid
        expected = jwt.encode(payload, store._keys[kid], algorithm="EdDSA", headers={"kid": kid, "typ": "at+jwt"})
        assert store.sign(payload) == expected


def test_a_token_from_identity_names_the_member(store, verifier):
    principal = verifier.principal(store.sign(claims()))
    assert (principal.member_id, principal.citizen_id, principal.session_id) == (7, "001000000002", "family-1")


def test_alg_none_is_refused(store, verifier):
    token = f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': store.signing_kid})}.{b64(claims())}."
    with pytest.raises(InvalidToken) as raised:
        verifier.verify(token)
    assert raised.value.details["reason"] == "algorithm_not_allowed"


def test_hs256_signed_with_the_public_key_is_refused(store, verifier):
    public_x = store.jwks()["keys"][0]["x"]
    token = jwt.encode(claims(), public_x, algorithm="HS256", headers={"kid": store.signing_kid, "typ": "at+jwt"})
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_a_token_signed_by_another_key_is_refused(store, verifier):
    forged = jwt.encode(
        claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": store.signing_kid, "typ": "at+jwt"}
    )
    with pytest.raises(InvalidToken):
        verifier.verify(forged)


def test_a_tampered_payload_is_refused(store, verifier):
    header, _, signature = store.sign(claims()).split(".")
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{b64(claims(sub='1'))}.{signature}")


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"aud": "someone-else"}, "invalid"),
        ({"iss": "https://evil.example"}, "invalid"),
        ({"exp": int(time.time()) - 5}, "expired"),
        ({"sid": None}, "invalid"),
    ],
)
def test_wrong_audience_issuer_expiry_or_missing_claims_are_refused(store, verifier, override, reason):
    with pytest.raises(InvalidToken) as raised:
        verifier.verify(store.sign(claims(**override)))
    assert raised.value.details["reason"] == reason


def test_a_token_that_is_not_an_access_token_is_refused(store, verifier):
    token = jwt.encode(
        claims(), store._keys[store.signing_kid], algorithm="EdDSA", headers={"kid": store.signing_kid, "typ": "JWT"}
    )
    with pytest.raises(InvalidToken) as raised:
        verifier.verify(token)
    assert raised.value.details["reason"] == "wrong_type"


def test_garbage_is_refused(verifier):
    with pytest.raises(InvalidToken):
        verifier.verify("not-a-jwt")


def test_after_rotation_old_tokens_still_verify_and_new_ones_use_the_new_key(tmp_path):
    directory = tmp_path / "keys"
    old_store = KeyStore.open(directory)
    old_token = old_store.sign(claims())
    generate_key(directory)
    new_store = KeyStore.open(directory)
    verifier = TokenVerifier(new_store.jwks)
    assert new_store.signing_kid != old_store.signing_kid
    assert verifier.verify(old_token)["sub"] == "7"
    assert jwt.get_unverified_header(new_store.sign(claims()))["kid"] == new_store.signing_kid


def test_a_verified_token_is_remembered_only_until_it_expires(store, verifier, monkeypatch):
    token = store.sign(claims(exp=int(time.time()) + 60))
    assert verifier.verify(token)["sub"] == "7"
    checked = []
    monkeypatch.setattr(verifier, "_verify", lambda t, fetch_jwks=None: checked.append(t) or {"exp": 0})
    verifier.verify(token)
    assert checked == []  # remembered
    monkeypatch.setattr(time, "time", lambda: 10**10)  # long after its expiry
    verifier.verify(token)
    assert checked == [token]  # checked again, not served from memory


def test_expired_tokens_leave_the_memory_of_verified_ones_as_new_ones_come(store, verifier):
    """Each sign-in and refresh brings a new token: kept until 10,000 had come, the expired ones made every service's
    memory grow for hours (the gateway +10 MB in a 30-minute soak). The least recently used go first once expired."""
    now = int(time.time())
    old = [store.sign(claims(sid=f"old-{n}", exp=now + 60)) for n in range(50)]
    for token in old:
        verifier.verify(token)
    later = now + 120  # every one of them has expired
    fresh = [store.sign(claims(sid=f"new-{n}", exp=later + 600)) for n in range(10)]  # 8 expired go per new one
    original = time.time
    try:
        time.time = lambda: later
        for token in fresh:
            verifier.verify(token)
    finally:
        time.time = original
    assert set(verifier._verified) == set(fresh)


def test_a_token_of_an_ended_session_is_refused_on_every_call_even_once_verified(store, verifier):
    from shared.auth import CallerView
    from shared.revocation import EndedSessions

    ended = EndedSessions()
    ended.restore([])
    token = store.sign(claims(sid="family-9"))
    assert CallerView(verifier, token, ended_sessions=ended).require().session_id == "family-9"  # now cached
    ended.end(["family-9"], time.time() + 900)
    with pytest.raises(InvalidToken) as raised:
        CallerView(verifier, token, ended_sessions=ended).require()
    assert raised.value.details["reason"] == "session_ended"
