"""ID-token validation of the VNeID client: every way a token can be wrong."""
import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

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
    base = {"iss": ISSUER, "sub": "vneid-abc", "aud": "sotay", "iat": now, "exp": now + 300, "nonce": NONCE,
            "citizen_id": "001000000002"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key, payload, header=None):
    return jwt.encode(header or {"alg": "RS256", "kid": "k1"}, payload, key)


def test_a_valid_token_names_the_citizen(client, key):
    identity = client.validate_id_token(sign(key, claims()), NONCE)
    assert (identity.issuer, identity.subject, identity.citizen_id) == (ISSUER, "vneid-abc", "001000000002")


@pytest.mark.parametrize("override, reason", [
    ({"nonce": "another"}, "wrong_nonce"),
    ({"nonce": None}, "wrong_nonce"),
    ({"aud": "someone-else"}, "wrong_audience"),
    ({"aud": ["sotay", "other"]}, "wrong_audience"),          # several audiences and no azp
    ({"iss": "https://evil.example"}, "wrong_issuer"),
    ({"exp": int(time.time()) - 120}, "expired"),
    ({"citizen_id": "12345"}, "missing_citizen_id"),
    ({"citizen_id": None}, "missing_citizen_id"),
])
def test_wrong_claims_are_refused(client, key, override, reason):
    with pytest.raises(VneidError) as refused:
        client.validate_id_token(sign(key, claims(**override)), NONCE)
    assert refused.value.reason == reason


def test_several_audiences_with_our_azp_are_accepted(client, key):
    assert client.validate_id_token(sign(key, claims(aud=["sotay", "other"], azp="sotay")), NONCE)


def test_a_token_signed_by_another_key_is_refused(client):
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    client.jwks = lambda refresh=False: client._jwks          # no network in a unit test
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
        client.validate_id_token(sign(key, claims()), NONCE)          # the same issuer without the slash
    assert refused.value.reason == "wrong_issuer"
