"""The web portal as HTTP sees it: served at / on the API's origin under a strict policy, installable, and the
refresh token kept in a cookie the page's scripts cannot read."""

import gzip
import json

import pytest
import requests

from shared.demo import DEMO_PASSWORD
from tests.e2e.conftest import GOOD_PASSWORD, bearer
from tests.e2e.people import Factory

COOKIE = {"X-Refresh-Mode": "cookie"}


def origin(running):
    return running.base.removesuffix("/api/v1")


def test_the_portal_is_served_at_the_root_under_a_strict_policy(running):
    page = requests.get(origin(running) + "/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy
    assert page.headers["Cache-Control"] == "no-cache"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline: the policy would refuse it


def test_the_portals_files_are_kept_a_year_by_their_release_name_and_revalidated_otherwise(running):
    page = requests.get(origin(running) + "/", timeout=10).text
    script = page.split('src="', 1)[1].split('"', 1)[0]
    assert script.startswith("/assets/app.js?v=")
    named = requests.get(origin(running) + script, timeout=10)
    assert named.status_code == 200 and "immutable" in named.headers["Cache-Control"]
    assert named.headers["Content-Type"].startswith("text/javascript")
    again = requests.get(origin(running) + script, headers={"If-None-Match": named.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    plain = requests.get(origin(running) + "/assets/app.js", timeout=10)
    assert plain.headers["Cache-Control"] == "no-cache"
    assert requests.get(origin(running) + "/assets/nothing.js", timeout=10).status_code == 404


def test_the_portal_travels_compressed_within_its_budget(running):
    page = requests.get(origin(running) + "/", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    assert page.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(page.raw.read()).startswith(b"<!doctype html>")


def test_the_manifest_makes_it_installable(running):
    answer = requests.get(origin(running) + "/manifest.webmanifest", timeout=10)
    assert answer.headers["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(answer.text)
    assert manifest["short_name"] == "Sổ tay" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert requests.get(origin(running) + icon["src"], timeout=10).content.startswith(b"\x89PNG")
    worker = requests.get(origin(running) + "/sw.js", timeout=10)
    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"


@pytest.fixture
def member(running):
    factory = Factory(running)
    return factory.member(factory.branch(), activated=True)


def cookie_login(running, member, password):
    return requests.post(
        f"{running.base}/auth/login",
        json={"citizen_id": member["citizen_id"], "password": password},
        headers=COOKIE,
        timeout=10,
    )


def test_in_cookie_mode_the_refresh_token_is_a_cookie_only_the_refresh_path_receives(running, member):
    signed_in = cookie_login(running, member, GOOD_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert "refresh_token" not in signed_in.json() and signed_in.json()["access_token"]
    cookie = signed_in.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/api/v1/auth/refresh"):
        assert attribute in cookie
    assert signed_in.headers["Cache-Control"] == "no-store"

    session = requests.Session()
    session.cookies.update(signed_in.cookies)
    refreshed = session.post(f"{running.base}/auth/refresh", headers=COOKIE, timeout=10)
    assert refreshed.status_code == 200, refreshed.text
    assert "refresh_token" not in refreshed.json()
    me = requests.get(f"{running.base}/me", headers=bearer(refreshed.json()["access_token"]), timeout=10)
    assert me.json()["citizen_id"] == member["citizen_id"]

    # the spent cookie again: reuse ends the family, and the answer clears the cookie
    stale = requests.post(f"{running.base}/auth/refresh", headers=COOKIE, cookies=signed_in.cookies, timeout=10)
    assert stale.status_code == 401 and "Max-Age=0" in stale.headers.get("Set-Cookie", "")


def test_a_refresh_without_the_mode_header_does_not_read_the_cookie(running, member):
    """A cross-site request cannot set the header (no CORS): the cookie alone refreshes nothing."""
    signed_in = cookie_login(running, member, GOOD_PASSWORD)
    bare = requests.post(f"{running.base}/auth/refresh", cookies=signed_in.cookies, timeout=10)
    assert bare.status_code == 400 and bare.json()["error"]["code"] == "validation_error"


def test_logout_in_cookie_mode_clears_the_cookie_and_ends_the_session(running, member):
    signed_in = cookie_login(running, member, GOOD_PASSWORD)
    out = requests.post(f"{running.base}/auth/logout", headers=bearer(signed_in.json()["access_token"]), timeout=10)
    assert out.status_code == 200 and "Max-Age=0" in out.headers["Set-Cookie"]
    after = requests.post(f"{running.base}/auth/refresh", headers=COOKIE, cookies=signed_in.cookies, timeout=10)
    assert after.status_code == 401


def test_the_json_mode_is_unchanged(running):
    answer = requests.post(
        f"{running.base}/auth/login", json={"citizen_id": "001000000002", "password": DEMO_PASSWORD}, timeout=10
    )
    assert answer.status_code == 200 and answer.json()["refresh_token"] and "Set-Cookie" not in answer.headers


def test_a_vneid_sign_in_begun_in_the_portal_returns_to_it_signed_in_by_cookie(running):
    from tests.e2e.test_vneid_http import browser_signs_in

    factory = Factory(running)
    member = factory.member(factory.branch())
    browser, callback = browser_signs_in(running, member["citizen_id"], start="/auth/vneid/login?portal=1")
    back = browser.get(callback, allow_redirects=False, timeout=10)
    assert back.status_code == 303 and back.headers["Location"] == "/#/home", back.text
    assert "HttpOnly" in back.headers["Set-Cookie"] and not back.content
    refreshed = browser.post(f"{running.base}/auth/refresh", headers=COOKIE, timeout=10)
    assert refreshed.status_code == 200, refreshed.text
    me = requests.get(f"{running.base}/me", headers=bearer(refreshed.json()["access_token"]), timeout=10)
    assert me.json()["citizen_id"] == member["citizen_id"]


def test_the_password_policy_is_public_in_the_words_of_its_refusals(running):
    policy = requests.get(f"{running.base}/auth/password-policy", timeout=10).json()
    assert policy["min_length"] == 8 and policy["max_length"] == 128
    assert policy["rules"]["common"].startswith("Mật khẩu này quá phổ biến")
