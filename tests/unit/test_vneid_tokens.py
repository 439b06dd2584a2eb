"""ID-token validation of the VNeID client: every way a token can be wrong."""

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from services.identity.vneid import VneidClient, VneidError

ISSUER = "https://vneid.example"
NONCE = "n-0123456789"


@pytest.fixture(scope="module")
def key():
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


@pytest.fixture
def client(key):
    client = VneidClient(ISSUER, "sotay", "secret", "https://sotay.example/cb")
    client._metadata = {"issuer": ISSUER, "jwks_uri": "unused"}
    client._jwks = {"keys": [key.as_dict(private=False)]}
    return client


def claims(**overrides):
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "sub": "vneid-abc",
        "aud": "sotay",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "citizen_id": "001000000002",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key, payload, header=None):
    header = header or {"alg": "RS256", "kid": "k1"}
    return jwt.encode(header, payload, key, algorithms=[header["alg"]])


def test_a_valid_token_names_the_citizen(client, key):
    identity = client.validate_id_token(sign(key, claims()), NONCE)
    assert (identity.issuer, identity.subject, identity.citizen_id) == (ISSUER, "vneid-abc", "001000000002")


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"nonce": "another"}, "wrong_nonce"),
        ({"nonce": None}, "wrong_nonce"),
        ({"aud": "someone-else"}, "wrong_audience"),
        ({"aud": ["sotay", "other"]}, "wrong_audience"),  # several audiences and no azp
        ({"iss": "https://evil.example"}, "wrong_issuer"),
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"citizen_id": "12345"}, "missing_citizen_id"),
        ({"citizen_id": None}, "missing_citizen_id"),
    ],
)
def test_wrong_claims_are_refused(client, key, override, reason):
    with pytest.raises(VneidError) as refused:
        client.validate_id_token(sign(key, claims(**override)), NONCE)
    assert refused.value.reason == reason


def test_several_audiences_with_our_azp_are_accepted(client, key):
    assert client.validate_id_token(sign(key, claims(aud=["sotay", "other"], azp="sotay")), NONCE)


def test_a_token_signed_by_another_key_is_refused(client):
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    client.jwks = lambda refresh=False: client._jwks  # no network in a unit test
    with pytest.raises(VneidError) as refused:
        client.validate_id_token(sign(other, claims()), NONCE)
    assert refused.value.reason == "bad_signature"


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_is_refused(client):
    token = f"{b64({'alg': 'none', 'kid': 'k1'})}.{b64(claims())}."
    with pytest.raises(VneidError):
        client.validate_id_token(token, NONCE)


def test_hs256_with_the_public_key_as_secret_is_refused(client, key):
    public_as_secret = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode())
    token = jwt.encode({"alg": "HS256", "kid": "k1"}, claims(), public_as_secret)
    with pytest.raises(VneidError):
        client.validate_id_token(token, NONCE)


def test_a_tampered_token_is_refused(client, key):
    header, _, signature = sign(key, claims()).split(".")
    with pytest.raises(VneidError):
        client.validate_id_token(f"{header}.{b64(claims(citizen_id='001000000000'))}.{signature}", NONCE)


def test_an_issuer_with_a_trailing_slash_is_compared_exactly(key):
    client = VneidClient(ISSUER + "/", "sotay", "secret", "https://sotay.example/cb")
    client._metadata = {"issuer": ISSUER + "/", "jwks_uri": "unused"}
    client._jwks = {"keys": [key.as_dict(private=False)]}
    assert client.validate_id_token(sign(key, claims(iss=ISSUER + "/")), NONCE)
    with pytest.raises(VneidError) as refused:
        client.validate_id_token(sign(key, claims()), NONCE)  # the same issuer without the slash
    assert refused.value.reason == "wrong_issuer"


def refusal(call):
    with pytest.raises(VneidError) as refused:
        call()
    return refused.value.reason


@pytest.mark.parametrize(
    "make_key, alg",
    [
        (lambda: RSAKey.generate_key(2048, parameters={"kid": "k2"}), "PS256"),
        (lambda: ECKey.generate_key("P-256", parameters={"kid": "k2"}), "ES256"),
        (lambda: OKPKey.generate_key("Ed25519", parameters={"kid": "k2"}), "EdDSA"),
    ],
)
def test_the_algorithms_discovery_announces_within_the_allow_list_are_accepted(client, make_key, alg):
    key = make_key()
    client._metadata["id_token_signing_alg_values_supported"] = ["RS256", alg]
    client._jwks = {"keys": [key.as_dict(private=False)]}
    assert client.validate_id_token(sign(key, claims(), {"alg": alg, "kid": "k2"}), NONCE).citizen_id
    client._metadata["id_token_signing_alg_values_supported"] = ["RS256"]  # not announced: not accepted
    assert (
        refusal(lambda: client.validate_id_token(sign(key, claims(), {"alg": alg, "kid": "k2"}), NONCE))
        == "disallowed_algorithm"
    )


def test_a_provider_offering_only_symmetric_or_no_signatures_is_refused(client, key):
    client._metadata["id_token_signing_alg_values_supported"] = ["HS256", "none"]
    assert refusal(lambda: client.validate_id_token(sign(key, claims()), NONCE)) == "unsupported_algorithm"


@pytest.mark.parametrize(
    "offered, key_held, secret, method",
    [
        (None, False, "secret", "client_secret_basic"),  # absent: basic, as Discovery says
        (["client_secret_post"], False, "secret", "client_secret_post"),
        (["client_secret_basic", "client_secret_post", "private_key_jwt"], True, None, "private_key_jwt"),
        (["client_secret_basic", "private_key_jwt"], False, "secret", "client_secret_basic"),
        (["private_key_jwt"], False, "secret", None),
        (["tls_client_auth"], True, "secret", None),
    ],
)
def test_the_token_endpoint_authentication_is_chosen_from_discovery(client, offered, key_held, secret, method):
    client._metadata["token_endpoint_auth_methods_supported"] = offered
    client.client_secret = secret
    client.client_key = ECKey.generate_key("P-256") if key_held else None
    if method:
        assert client.token_auth_method() == method
    else:
        assert refusal(client.token_auth_method) == "unsupported_token_auth"


def test_the_authorization_responses_issuer_is_checked_when_sent_or_announced(client):
    client.check_response_issuer(ISSUER)
    client.check_response_issuer(None)  # not announced, not sent
    assert refusal(lambda: client.check_response_issuer("https://evil.example")) == "wrong_issuer"
    client._metadata["authorization_response_iss_parameter_supported"] = True
    assert refusal(lambda: client.check_response_issuer(None)) == "missing_issuer"


class FakeResponse:
    def __init__(self, body):
        self.body = body

    def raise_for_status(self):
        pass

    def json(self):
        return self.body


@pytest.mark.parametrize(
    "userinfo, outcome",
    [
        ({"sub": "vneid-abc", "citizen_id": "001000000002"}, "001000000002"),
        ({"sub": "vneid-someone-else", "citizen_id": "001000000003"}, "userinfo_subject_mismatch"),
        ({"citizen_id": "001000000003"}, "userinfo_subject_mismatch"),
        ({"sub": "vneid-abc"}, "missing_citizen_id"),
    ],
)
def test_the_citizen_id_comes_from_userinfo_for_the_same_subject_only(client, key, monkeypatch, userinfo, outcome):
    from services.identity import vneid

    client._metadata.update(token_endpoint="https://vneid.example/token", userinfo_endpoint="https://vneid.example/me")
    id_token = sign(key, claims(citizen_id=None))
    monkeypatch.setattr(
        vneid.OAuth2Session, "fetch_token", lambda self, *a, **k: {"id_token": id_token, "access_token": "at"}
    )
    seen = []
    monkeypatch.setattr(
        vneid.requests, "get", lambda url, **k: seen.append((url, k["headers"])) or FakeResponse(userinfo)
    )
    if outcome.isdigit():
        assert client.finish("code", "verifier", NONCE).citizen_id == outcome
        assert seen == [("https://vneid.example/me", {"Authorization": "Bearer at", "Accept": "application/json"})]
    else:
        assert refusal(lambda: client.finish("code", "verifier", NONCE)) == outcome
