"""Sign-in with VNeID through the gateway, against the local development OpenID Provider."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import bearer, error_code
from tests.e2e.people import Factory

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(running):
    factory = Factory(running)
    return {"factory": factory, "branch": factory.branch()}


def citizen(world, **fields):
    """The citizen ID of a new member of the world's branch (in a province in pilot), never signed in."""
    return world["factory"].member(world["branch"], **fields)["citizen_id"]


def browser_signs_in(running, citizen_id, browser=None, start="/auth/vneid/login"):
    """What a browser does: start, sign in at the provider, come back. Returns (session, callback URL)."""
    browser = browser or requests.Session()
    start = browser.get(f"{running.base}{start}", allow_redirects=False, timeout=10)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    page = browser.get(authorize, timeout=10)
    assert page.status_code == 200 and "VNeID" in page.text
    form = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    back = browser.post(
        authorize.split("?")[0], data={**form, "citizen_id": citizen_id}, allow_redirects=False, timeout=10
    )
    assert back.status_code == 302
    return browser, back.headers["Location"]


def test_the_authorize_request_uses_pkce_state_nonce_and_the_exact_redirect(running):
    start = requests.get(f"{running.base}/auth/vneid/login", allow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{running.base}/auth/vneid/callback"]
    cookie = start.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_first_vneid_sign_in_activates_the_account(running, world):
    citizen_id = citizen(world)
    browser, callback = browser_signs_in(running, citizen_id)
    signed_in = browser.get(callback, timeout=10)
    assert signed_in.status_code == 200, signed_in.text
    me = requests.get(f"{running.base}/me", headers=bearer(signed_in.json()["access_token"]), timeout=10)
    assert me.json()["citizen_id"] == citizen_id
    again_browser, again = browser_signs_in(running, citizen_id)
    assert again_browser.get(again, timeout=10).status_code == 200  # the link is reused


def test_a_callback_is_accepted_once_and_only_from_the_browser_that_started(running, world):
    browser, callback = browser_signs_in(running, citizen(world))
    other_browser = requests.get(callback, timeout=10)  # no cookie: another browser
    assert other_browser.status_code == 401 and other_browser.json()["error"]["details"]["reason"] == "invalid_state"
    browser2, callback2 = browser_signs_in(running, citizen(world, activated=True))
    assert browser2.get(callback2, timeout=10).status_code == 200
    replayed = browser2.get(callback2, timeout=10)
    assert replayed.status_code == 401 and error_code(replayed) == "vneid_failed"


def test_a_wrong_state_is_refused(running, world):
    browser, callback = browser_signs_in(running, citizen(world))
    forged = callback.replace("state=", "state=x")
    response = browser.get(forged, timeout=10)
    assert response.status_code == 401 and response.json()["error"]["details"]["reason"] == "invalid_state"


def test_only_citizens_in_the_member_database_get_an_account(running):
    browser, callback = browser_signs_in(running, "009999999996")
    response = browser.get(callback, timeout=10)
    assert response.status_code == 403 and error_code(response) == "not_a_member"


def test_a_member_of_a_committee_not_rolled_out_cannot_activate_with_vneid(running, world):
    elsewhere = world["factory"].branch(rollout="disabled")
    browser, callback = browser_signs_in(running, world["factory"].member(elsewhere)["citizen_id"])
    response = browser.get(callback, timeout=10)
    assert response.status_code == 403 and error_code(response) == "not_rolled_out"


def test_a_refused_consent_is_an_error_not_a_crash(running):
    response = requests.get(f"{running.base}/auth/vneid/callback?error=access_denied&state=x", timeout=10)
    assert response.status_code == 401 and error_code(response) == "vneid_failed"
    missing = requests.get(f"{running.base}/auth/vneid/callback", timeout=10)
    assert missing.status_code == 400 and error_code(missing) == "validation_error"


@pytest.mark.parametrize(
    "issuer, reason", [("https%3A%2F%2Fimpostor.example", "wrong_issuer"), (None, "missing_issuer")]
)
def test_a_callback_naming_another_issuer_or_none_is_refused(running, world, issuer, reason):
    # RFC 9207: the provider names itself in its response (and says so in discovery), which defeats mix-ups
    browser, callback = browser_signs_in(running, citizen(world))
    base, query = callback.split("?", 1)
    kept = [part for part in query.split("&") if not part.startswith("iss=")]
    forged = f"{base}?{'&'.join(kept + ([f'iss={issuer}'] if issuer else []))}"
    response = browser.get(forged, timeout=10)
    assert response.status_code == 401 and response.json()["error"]["details"]["reason"] == reason
