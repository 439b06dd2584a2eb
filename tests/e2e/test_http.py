"""The whole suite as separate processes, driven over HTTP like a client would."""

import base64
import json

import pytest
import requests

from tests.e2e.conftest import GOOD_PASSWORD, bearer, error_code, login
from tests.e2e.people import Factory, administrator

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(running):
    """A grassroots committee of its own with two branches, and an activated member of the first."""
    factory = Factory(running)
    branch = factory.branch()
    sibling = factory.organization(branch["parent_id"])
    return {"branch": branch, "sibling": sibling, "member": factory.member(branch, activated=True)}


def signed_in(gateway, member):
    return login(gateway, member["citizen_id"], GOOD_PASSWORD).json()


@pytest.fixture(scope="module")
def tokens(gateway, world):
    return signed_in(gateway, world["member"])


def test_a_member_signs_in_and_reads_their_own_record(gateway, world, tokens):
    assert tokens["token_type"] == "Bearer" and 0 < tokens["expires_in"] <= 900
    me = requests.get(f"{gateway}/me", headers=bearer(tokens["access_token"]), timeout=10)
    assert me.status_code == 200
    assert me.json()["full_name"] == world["member"]["full_name"]
    assert me.json()["citizen_id"] == world["member"]["citizen_id"]


def test_a_member_sees_their_branch_but_not_a_sibling_branch(gateway, world, tokens):
    branch = requests.get(
        f"{gateway}/organizations/{world['branch']['id']}", headers=bearer(tokens["access_token"]), timeout=10
    )
    assert branch.status_code == 200 and branch.json()["level"] == "branch"
    sibling = requests.get(
        f"{gateway}/organizations/{world['sibling']['id']}", headers=bearer(tokens["access_token"]), timeout=10
    )
    assert sibling.status_code == 404


def test_the_administrator_lists_the_34_provinces_and_the_central_agencies(gateway, running):
    children = requests.get(
        f"{gateway}/organizations/1/children", headers=bearer(administrator(running)), timeout=10
    ).json()
    seeded = [o for o in children["items"] if not o["code"].startswith("E2E-")]  # not the factories' own
    assert len(seeded) == 35 and children["next_cursor"] is None
    pilots = {o["name"] for o in seeded if o["rollout"] == "pilot"}
    assert pilots == {
        "Đảng bộ tỉnh Đồng Tháp",
        "Đảng bộ tỉnh Lạng Sơn",
        "Đảng bộ tỉnh Thái Nguyên",
        "Đảng bộ các cơ quan Đảng Trung ương",
    }


def test_refresh_rotates_and_reuse_revokes_the_family(gateway, world):
    first = signed_in(gateway, world["member"])
    second = requests.post(f"{gateway}/auth/refresh", json={"refresh_token": first["refresh_token"]}, timeout=10)
    assert second.status_code == 200
    replay = requests.post(f"{gateway}/auth/refresh", json={"refresh_token": first["refresh_token"]}, timeout=10)
    assert replay.status_code == 401 and error_code(replay) == "invalid_token"
    revoked = requests.post(
        f"{gateway}/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}, timeout=10
    )
    assert revoked.status_code == 401


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "bad_request"),
        (b"", 400, "validation_error"),
        (b"[1, 2]", 400, "validation_error"),
        (json.dumps({"citizen_id": 1002, "password": "x"}).encode(), 400, "validation_error"),
        (json.dumps({"citizen_id": "001000000002"}).encode(), 400, "validation_error"),
        (json.dumps({"citizen_id": "12345", "password": "x"}).encode(), 400, "validation_error"),
        (json.dumps({"citizen_id": "009999999999", "password": "x"}).encode(), 401, "invalid_credentials"),
        (json.dumps({"citizen_id": "001000000002", "password": "wrong"}).encode(), 401, "invalid_credentials"),
        (json.dumps({"citizen_id": "079000000005", "password": "x"}).encode(), 401, "invalid_credentials"),
    ],
)
def test_bad_sign_in_input_gets_a_json_error_never_a_500(gateway, body, status, code):
    response = requests.post(
        f"{gateway}/auth/login", data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert (response.status_code, error_code(response)) == (status, code)
    assert "Traceback" not in response.text


def test_validation_errors_name_the_fields(gateway):
    response = requests.post(f"{gateway}/auth/login", json={"citizen_id": 7}, timeout=10)
    details = response.json()["error"]["details"]
    assert set(details) == {"citizen_id", "password"}


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "make_header",
    [
        lambda token: {},
        lambda token: {"Authorization": "Bearer"},
        lambda token: {"Authorization": "Basic " + token},
        lambda token: bearer("garbage"),
        lambda token: bearer(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")),
        lambda token: bearer(_b64({"alg": "none", "typ": "at+jwt"}) + "." + token.split(".")[1] + "."),
        lambda token: bearer(
            token.split(".")[0] + "." + _b64({"sub": "1", "aud": "sotay-api"}) + "." + token.split(".")[2]
        ),
    ],
    ids=["missing", "empty", "wrong-scheme", "garbage", "forged-signature", "alg-none", "tampered-payload"],
)
def test_missing_or_forged_tokens_get_401(gateway, tokens, make_header):
    response = requests.get(f"{gateway}/me", headers=make_header(tokens["access_token"]), timeout=10)
    assert response.status_code == 401
    assert error_code(response) in {"unauthenticated", "invalid_token"}


def test_logout_revokes_the_session(gateway, world):
    session = signed_in(gateway, world["member"])
    out = requests.post(f"{gateway}/auth/logout", headers=bearer(session["access_token"]), timeout=10)
    assert out.status_code == 200
    again = requests.post(f"{gateway}/auth/refresh", json={"refresh_token": session["refresh_token"]}, timeout=10)
    assert again.status_code == 401


def test_unknown_routes_and_methods_answer_in_json(gateway):
    assert error_code(requests.get(f"{gateway}/nowhere", timeout=10)) == "not_found"
    wrong_method = requests.get(f"{gateway}/auth/login", timeout=10)
    assert wrong_method.status_code == 405 and error_code(wrong_method) == "method_not_allowed"


def test_openapi_describes_the_api_from_the_schemas(gateway):
    spec = requests.get(f"{gateway}/openapi.json", timeout=10).json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/auth/login", "/api/v1/me", "/api/v1/organizations/{organization_id}"} <= set(spec["paths"])
    assert set(spec["components"]["schemas"]["LoginRequest"]["required"]) == {"citizen_id", "password"}


def test_jwks_publishes_the_signing_key(gateway, tokens):
    keys = requests.get(f"{gateway}/.well-known/jwks.json", timeout=10).json()["keys"]
    header = json.loads(base64.urlsafe_b64decode(tokens["access_token"].split(".")[0] + "=="))
    assert header["kid"] in {key["kid"] for key in keys}
    assert all("d" not in key for key in keys)  # public halves only


def test_health_and_metrics(gateway, running):
    root = gateway.rsplit("/api/v1", 1)[0]
    assert requests.get(f"{root}/health", timeout=10).json()["status"] == "ok"
    metrics = requests.get(running.metrics_url, timeout=10).text
    assert "sotay_http_requests_total" in metrics


def test_a_correlation_id_is_returned_and_kept_when_the_client_sends_one(gateway):
    mine = requests.get(f"{gateway}/openapi.json", headers={"X-Correlation-ID": "client-req-12345"}, timeout=10)
    assert mine.headers["X-Correlation-ID"] == "client-req-12345"
    fresh = requests.get(f"{gateway}/openapi.json", headers={"X-Correlation-ID": "bad id!"}, timeout=10)
    assert fresh.headers["X-Correlation-ID"] not in ("", "bad id!")


def test_a_body_over_the_limit_is_refused_in_json(gateway):
    response = requests.post(
        f"{gateway}/auth/login", data=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 413 and error_code(response) == "payload_too_large"
