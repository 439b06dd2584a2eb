"""The development OpenID Provider keeps the protocol's rules (so tests against it mean something)."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.test import Client

from tools.vneid_idp import load_key, make_app

REDIRECT = "https://sotay.example/api/v1/auth/vneid/callback"


@pytest.fixture(scope="module")
def provider():
    return Client(make_app("https://idp.example", {"sotay": ("s3cret", REDIRECT)}, load_key()))


def authorize(provider, verifier="v" * 50, **overrides):
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    form = {
        "client_id": "sotay",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid",
        "state": "st",
        "nonce": "nn",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "citizen_id": "001000000002",
        **overrides,
    }
    response = provider.post("/authorize", data=form)
    return response


def code_of(response):
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def token(provider, code, verifier="v" * 50, redirect=REDIRECT, secret="s3cret"):
    auth = base64.b64encode(f"sotay:{secret}".encode()).decode()
    return provider.post(
        "/token",
        headers={"Authorization": f"Basic {auth}"},
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier},
    )


def test_a_code_is_exchanged_once_with_the_right_verifier(provider):
    code = code_of(authorize(provider))
    assert token(provider, code, verifier="w" * 50).json["error"] == "invalid_grant"  # wrong PKCE verifier
    code = code_of(authorize(provider))
    first = token(provider, code)
    assert first.status_code == 200 and first.json["id_token"].count(".") == 2
    assert token(provider, code).json["error"] == "invalid_grant"  # single use


def test_the_redirect_uri_and_the_client_secret_must_match(provider):
    assert token(provider, code_of(authorize(provider)), redirect=REDIRECT + "x").json["error"] == "invalid_grant"
    assert token(provider, code_of(authorize(provider)), secret="guess").status_code == 401


def test_an_unregistered_redirect_gets_an_error_page_not_a_redirect(provider):
    response = authorize(provider, redirect_uri="https://evil.example/cb")
    assert response.status_code == 400 and "Location" not in response.headers


def test_pkce_s256_is_required(provider):
    response = authorize(provider, code_challenge_method="plain")
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_request"]
