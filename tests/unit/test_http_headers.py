"""The one rule for caching and the security headers (shared/http.py), answer by answer."""

from werkzeug.wrappers import Response

from shared.http import SECURITY_HEADERS, json_response, secure


def test_an_answer_carrying_a_token_is_never_stored():
    for payload in ({"access_token": "a", "refresh_token": "r"}, {"refresh_token": "r"}):
        assert secure(json_response(payload)).headers["Cache-Control"] == "no-store"


def test_an_answer_setting_a_cookie_is_never_stored():
    response = Response(status=302, headers={"Location": "https://vneid.example/authorize"})
    response.set_cookie("sotay_vneid", "flow-secret", httponly=True)
    assert secure(response).headers["Cache-Control"] == "no-store"


def test_every_other_answer_is_private_and_revalidated():
    for payload in ({"id": 1, "full_name": "Lê Văn Hùng"}, {"items": []}, [1, 2]):
        assert secure(json_response(payload)).headers["Cache-Control"] == "private, no-cache"


def test_every_answer_carries_the_security_headers_and_a_route_may_choose_its_own_cache_rule():
    response = secure(json_response({"keys": []}, headers={"Cache-Control": "public, max-age=300"}))
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert {name: response.headers[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
