"""Headers a browser and a cache obey (issue 8, item 14): tokens never stored, personal data never in a
shared cache, nothing sniffed or framed, /metrics off the clients' port, and only JSON bodies accepted."""

import pytest
import requests

from tests.e2e.conftest import GOOD_PASSWORD, bearer, error_code, login
from tests.e2e.people import Factory
from tests.e2e.test_vneid_http import browser_signs_in

pytestmark = pytest.mark.e2e

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


@pytest.fixture(scope="module")
def member(running):
    factory = Factory(running)
    return factory.member(factory.branch(), activated=True)


def assert_secure(response):
    assert {name: response.headers.get(name) for name in SECURITY} == SECURITY, response.request.url


def test_answers_that_carry_a_token_are_never_stored(running, member):
    signed_in = login(running.base, member["citizen_id"], GOOD_PASSWORD)
    assert signed_in.status_code == 200 and signed_in.headers["Cache-Control"] == "no-store"
    refreshed = requests.post(
        f"{running.base}/auth/refresh", timeout=10, json={"refresh_token": signed_in.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200 and refreshed.headers["Cache-Control"] == "no-store"
    assert_secure(signed_in)
    assert_secure(refreshed)


def test_the_vneid_round_trip_is_never_stored(running, member):
    browser = requests.Session()
    start = browser.get(f"{running.base}/auth/vneid/login", allow_redirects=False, timeout=10)
    assert start.headers["Cache-Control"] == "no-store"  # it sets the flow's cookie
    browser, callback = browser_signs_in(running, member["citizen_id"])
    signed_in = browser.get(callback, timeout=10)
    assert signed_in.status_code == 200 and "access_token" in signed_in.json()
    assert signed_in.headers["Cache-Control"] == "no-store"
    assert_secure(signed_in)


def test_answers_to_a_signed_in_member_stay_out_of_shared_caches(running, member):
    token = member["token"]
    for path in ("/me", "/me/notifications", "/me/sessions"):
        answer = requests.get(f"{running.base}{path}", headers=bearer(token), timeout=10)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "private, no-cache", path
        assert_secure(answer)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/me"),  # 401
        ("GET", "/no-such-route"),  # 404 from the router
        ("DELETE", "/openapi.json"),  # 405
        ("GET", "/openapi.json"),  # 200, public
        ("POST", "/auth/login"),  # 400
    ],
)
def test_every_answer_carries_the_security_headers(running, method, path):
    answer = requests.request(method, f"{running.base}{path}", timeout=10, json={} if method == "POST" else None)
    assert_secure(answer)
    assert answer.headers["Cache-Control"] in ("no-store", "private, no-cache")


def test_metrics_are_not_served_on_the_clients_port(running):
    root = running.base.rsplit("/api/v1", 1)[0]
    public = requests.get(f"{root}/metrics", timeout=10)
    assert public.status_code == 404 and "sotay_" not in public.text
    assert "sotay_http_requests_total" in requests.get(running.metrics_url, timeout=10).text


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", "citizen_id=001000000002&password=sotay-demo-2026"),
        ("text/plain", '{"citizen_id": "001000000002", "password": "sotay-demo-2026"}'),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="citizen_id"\r\n\r\n001000000002\r\n--x--\r\n',
        ),
        (None, '{"citizen_id": "001000000002", "password": "sotay-demo-2026"}'),
    ],
)
def test_a_cross_site_form_cannot_post_sign_in_attempts(running, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    answer = requests.post(f"{running.base}/auth/login", data=body.encode(), headers=headers, timeout=10)
    assert answer.status_code == 415 and error_code(answer) == "unsupported_media_type"
    assert_secure(answer)


def test_every_json_endpoint_refuses_a_body_that_is_not_json(running, member):
    token = member["token"]
    form = {**bearer(token), "Content-Type": "application/x-www-form-urlencoded"}
    for method, path in (
        ("PATCH", "/me"),
        ("PUT", "/me/notification-preferences"),
        ("POST", "/me/devices"),
        ("POST", "/auth/password"),
        ("POST", "/auth/activation"),
    ):
        answer = requests.request(method, f"{running.base}{path}", data=b"a=1", headers=form, timeout=10)
        assert answer.status_code == 415 and error_code(answer) == "unsupported_media_type", path
    as_json = requests.post(f"{running.base}/imports", json={"file": "x"}, headers=bearer(token), timeout=10)
    assert as_json.status_code == 415  # the import takes text/csv or multipart, nothing else
