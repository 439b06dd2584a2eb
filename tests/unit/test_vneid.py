"""The VNeID client against the development provider over real HTTP, as a browser would drive it.

The claim-by-claim matrix with a stubbed JWKS is in test_vneid_tokens.py and the provider's own
rules in test_vneid_dev_provider.py; here the two sides meet: discovery, JWKS, authorize, token.
"""

import base64
import hashlib
import hmac
import html
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey

from services.identity.vneid import VneidClient, VneidError
from tests.support.waiting import free_port, stop_process, wait_for

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, SECRET = "sotay", "s3cret"
REDIRECT = "http://127.0.0.1:8000/api/v1/auth/vneid/callback"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


class Idp:
    def __init__(self, issuer, key):
        self.issuer = issuer
        self.key = key

    def client(self, secret=SECRET, issuer=None):
        return VneidClient(issuer or self.issuer, CLIENT_ID, secret, REDIRECT)


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    """The provider as `make run` starts it, with a signing key this test holds (--keys-file)."""
    folder = tmp_path_factory.mktemp("vneid-idp")
    key = RSAKey.generate_key(2048)
    (folder / "key.pem").write_bytes(key.as_pem(private=True))
    key.ensure_kid()  # the provider names a PEM's key by its thumbprint too
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    log = open(folder / "idp.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.vneid_idp",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--client",
            f"{CLIENT_ID}:{SECRET}:{REDIRECT}",
            "--keys-file",
            str(folder / "key.pem"),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def up():
        if process.poll() is not None:
            raise AssertionError("the provider exited:\n" + (folder / "idp.log").read_text())
        try:
            return requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=10, interval=0.05, message="the development provider's discovery document")
        yield Idp(issuer, key)
    finally:
        stop_process(process)
        log.close()


def sign_in(authorization, citizen_id, full_name="Lê Văn Hùng"):
    """Open the sign-in page, submit its form, follow nothing: returns the callback's query."""
    browser = requests.Session()
    page = browser.get(authorization.url, timeout=5)
    assert page.status_code == 200 and "Đăng nhập VNeID" in page.text
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    back = browser.post(
        urljoin(authorization.url, "/authorize"),
        allow_redirects=False,
        timeout=5,
        data={**form, "citizen_id": citizen_id, "full_name": full_name},
    )
    assert back.status_code == 302
    location = back.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["state"] == authorization.state and query["iss"] == urljoin(authorization.url, "/").rstrip("/")
    return query["code"]


def finish(client, code, code_verifier, nonce):
    """The exchange with the issuer the provider named in its response (RFC 9207)."""
    return client.finish(code, code_verifier, nonce, iss=client.issuer)


def test_the_authorize_url_carries_pkce_state_nonce_and_the_exact_redirect(idp):
    client = idp.client()
    authorization = client.start()
    assert authorization.url.startswith(f"{idp.issuer}/authorize?")
    query = parse_qs(urlsplit(authorization.url).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [REDIRECT] and query["scope"] == ["openid profile"]
    assert query["state"] == [authorization.state] and query["nonce"] == [authorization.nonce]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [create_s256_code_challenge(authorization.code_verifier)]
    assert "code_verifier" not in query
    again = client.start()
    assert {again.state, again.nonce, again.code_verifier}.isdisjoint(
        {authorization.state, authorization.nonce, authorization.code_verifier}
    )


def test_a_sign_in_names_the_citizen_with_a_stable_subject(idp):
    client = idp.client()
    first = client.start()
    identity = finish(client, sign_in(first, "001000000002"), first.code_verifier, first.nonce)
    assert (identity.issuer, identity.citizen_id) == (idp.issuer, "001000000002")
    assert identity.claims["name"] == "Lê Văn Hùng" and identity.claims["aud"] == CLIENT_ID
    second = client.start()
    again = finish(client, sign_in(second, "001000000002"), second.code_verifier, second.nonce)
    assert again.subject == identity.subject
    other = client.start()
    assert finish(client, sign_in(other, "001000000001"), other.code_verifier, other.nonce).subject != identity.subject


def refused(call):
    with pytest.raises(VneidError) as caught:
        call()
    return caught.value.reason


def test_a_code_is_exchanged_once(idp):
    client = idp.client()
    authorization = client.start()
    code = sign_in(authorization, "001000000002")
    assert finish(client, code, authorization.code_verifier, authorization.nonce).citizen_id == "001000000002"
    assert (
        refused(lambda: finish(client, code, authorization.code_verifier, authorization.nonce))
        == "token_exchange_failed"
    )


def test_the_code_needs_its_own_verifier_and_the_client_secret(idp):
    client = idp.client()
    authorization, other = client.start(), client.start()
    code = sign_in(authorization, "001000000002")
    assert refused(lambda: finish(client, code, other.code_verifier, authorization.nonce)) == "token_exchange_failed"
    authorization = client.start()
    code = sign_in(authorization, "001000000002")
    impostor = idp.client(secret="guess")
    assert (
        refused(lambda: finish(impostor, code, authorization.code_verifier, authorization.nonce))
        == "token_exchange_failed"
    )


def test_the_nonce_of_another_sign_in_is_refused(idp):
    client = idp.client()
    authorization, other = client.start(), client.start()
    code = sign_in(authorization, "001000000002")
    assert refused(lambda: finish(client, code, authorization.code_verifier, other.nonce)) == "wrong_nonce"


def test_a_citizen_id_that_is_not_12_digits_is_refused(idp):
    client = idp.client()
    authorization = client.start()
    code = sign_in(authorization, "12345")
    assert (
        refused(lambda: finish(client, code, authorization.code_verifier, authorization.nonce)) == "missing_citizen_id"
    )


def b64(data):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(idp, **overrides):
    now = int(time.time())
    base = {
        "iss": idp.issuer,
        "sub": "vneid-abc",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "citizen_id": "001000000002",
    }
    return {**base, **overrides}


def signed(key, payload, kid=None):
    return jwt.encode({"alg": "RS256", "kid": kid or key.kid}, payload, key)


def unsigned(idp):
    return f"{b64({'alg': 'none', 'kid': idp.key.kid})}.{b64(claims(idp))}."


def hs256_with_the_public_key(idp):
    # the classic confusion: the verifier's public PEM used as an HMAC secret
    signing_input = f"{b64({'alg': 'HS256', 'kid': idp.key.kid})}.{b64(claims(idp))}"
    mac = hmac.new(idp.key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


@pytest.mark.parametrize(
    "forge, reason",
    [
        (lambda idp: signed(idp.key, claims(idp)), None),
        (lambda idp: signed(idp.key, claims(idp, nonce="n-2")), "wrong_nonce"),
        (lambda idp: signed(idp.key, claims(idp, aud="someone-else")), "wrong_audience"),
        (lambda idp: signed(idp.key, claims(idp, iss="https://impostor.example")), "wrong_issuer"),
        (lambda idp: signed(idp.key, claims(idp, iat=int(time.time()) - 900, exp=int(time.time()) - 600)), "expired"),
        (lambda idp: signed(idp.key, claims(idp, citizen_id="00100000000X")), "missing_citizen_id"),
        (lambda idp: signed(RSAKey.generate_key(2048), claims(idp), kid=idp.key.kid), "bad_signature"),
        (unsigned, "disallowed_algorithm"),
        (hs256_with_the_public_key, "disallowed_algorithm"),
    ],
    ids=["valid", "nonce", "audience", "issuer", "expired", "citizen_id", "other_key", "alg_none", "hs256"],
)
def test_id_tokens_are_checked_against_the_providers_jwks(idp, forge, reason):
    client = idp.client()
    token = forge(idp)
    if reason is None:
        assert client.validate_id_token(token, "n-1").subject == "vneid-abc"
    else:
        assert refused(lambda: client.validate_id_token(token, "n-1")) == reason


def test_an_unknown_kid_refetches_the_jwks_once(idp):
    client = idp.client()
    retired = RSAKey.generate_key(2048, parameters={"kid": "retired"})
    client._jwks = {"keys": [retired.as_dict(private=False)]}  # cached before the provider rotated
    fetches = []
    fetch = client.jwks
    client.jwks = lambda refresh=False: fetches.append(refresh) or fetch(refresh)
    assert client.validate_id_token(signed(idp.key, claims(idp)), "n-1").citizen_id == "001000000002"
    assert fetches.count(True) == 1
    fetches.clear()
    stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"})
    assert refused(lambda: client.validate_id_token(signed(stranger, claims(idp)), "n-1")) == "unknown_key"
    assert fetches.count(True) == 1


@pytest.mark.parametrize("change", [{"redirect_uri": "https://evil.example/cb"}, {"client_id": "stranger"}])
def test_an_unregistered_client_or_redirect_gets_an_error_page_not_a_redirect(idp, change):
    authorization = idp.client().start()
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorization.url).query).items()}
    url = f"{idp.issuer}/authorize?{urlencode({**query, **change})}"
    for response in (
        requests.get(url, allow_redirects=False, timeout=5),
        requests.post(
            f"{idp.issuer}/authorize",
            data={**query, **change, "citizen_id": "001000000002"},
            allow_redirects=False,
            timeout=5,
        ),
    ):
        assert response.status_code == 400 and "Location" not in response.headers
        assert response.headers["Content-Type"].startswith("text/html") and "không hợp lệ" in response.text


def test_discovery_naming_another_issuer_is_refused(idp):
    # the same provider reached under another name: its document names 127.0.0.1, not localhost
    elsewhere = idp.client(issuer=idp.issuer.replace("127.0.0.1", "localhost"))
    assert refused(elsewhere.metadata) == "wrong_issuer"
    assert refused(elsewhere.start) == "wrong_issuer"


def test_an_unreachable_provider_is_an_error_not_a_crash():
    assert (
        refused(VneidClient(f"http://127.0.0.1:{free_port()}", CLIENT_ID, SECRET, REDIRECT).start)
        == "provider_unreachable"
    )
