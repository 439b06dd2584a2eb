"""Bodies and URLs no schema describes (too deep, unstorable text, integers past 64 bits): always a JSON 4xx.
Generated requests from the OpenAPI document are tests/e2e/test_conformance_http.py."""

import pytest
import requests

from tests.e2e.conftest import bearer, login

pytestmark = pytest.mark.e2e


DEEP = "[" * 100_000 + "]" * 100_000


def json_error(response):
    return response.headers.get("Content-Type", "").startswith("application/json") and "error" in response.json()


def test_json_nested_100000_deep_is_a_400(running):
    answer = requests.post(
        f"{running.base}/auth/login", data=DEEP, timeout=15, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400 and json_error(answer)


def test_a_lone_surrogate_in_a_password_is_a_400(running):
    raw = '{"citizen_id": "001000000002", "password": "sotay-\\ud800"}'
    answer = requests.post(
        f"{running.base}/auth/login", data=raw, timeout=15, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400 and json_error(answer)
    assert "password" in answer.json()["error"]["details"]


@pytest.mark.parametrize("value", ["1e30", str(2**63), str(-(2**63) - 1), "1" + "0" * 40])
def test_integers_no_database_column_holds_are_a_400(running, value):
    admin = login(running.base, "001000000000").json()["access_token"]
    me = requests.get(f"{running.base}/me", headers=bearer(admin), timeout=10).json()
    transfer = requests.post(
        f"{running.base}/members/{me['id']}/transfers",
        data=f'{{"to_organization_id": {value}}}',
        headers={**bearer(admin), "Content-Type": "application/json"},
        timeout=15,
    )
    assert transfer.status_code == 400 and "to_organization_id" in transfer.json()["error"]["details"]
    created = requests.post(
        f"{running.base}/members",
        timeout=15,
        headers={**bearer(admin), "Content-Type": "application/json"},
        data=(
            '{"citizen_id": "001093000777", "full_name": "Tràn Số", "status": "official", '
            f'"organization_id": {value}}}'
        ),
    )
    assert created.status_code == 400 and "organization_id" in created.json()["error"]["details"]


def poisoned_bodies(spec, operation):
    """Raw JSON bodies for one operation: too deep, a lone surrogate in every text, integers past 64 bits."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return []
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    properties = schema.get("properties", {})
    texts = [name for name, p in properties.items() if p.get("type") == "string"] or ["x"]
    numbers = [name for name, p in properties.items() if p.get("type") == "integer"] or texts
    bodies = [
        DEEP,
        "{" + ", ".join(f'"{name}": "\\ud800"' for name in texts) + "}",
        "{" + ", ".join(f'"{name}": "a\\u0000"' for name in texts) + "}",
    ]
    for value in ("1e30", str(2**63), str(-(2**63) - 1)):
        bodies.append("{" + ", ".join(f'"{name}": {value}' for name in numbers) + "}")
    return bodies


def test_poisoned_bodies_to_every_json_endpoint_are_a_4xx_with_a_json_error(running):
    """Each JSON endpoint, as the administrator (so the body reaches the owning service)."""
    spec = requests.get(f"{running.base}/openapi.json", timeout=10).json()
    admin = login(running.base, "001000000000").json()["access_token"]
    root = running.base.rsplit("/api/v1", 1)[0]
    tried = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for body in poisoned_bodies(spec, operation):
                url = root + path.replace("{decision}", "approve")
                for parameter in (
                    "organization_id",
                    "member_id",
                    "request_id",
                    "transfer_id",
                    "activation_id",
                    "notification_id",
                    "session_id",
                ):
                    url = url.replace("{" + parameter + "}", "1")
                answer = requests.request(
                    method.upper(),
                    url,
                    data=body.encode(),
                    timeout=15,
                    headers={**bearer(admin), "Content-Type": "application/json"},
                )
                assert 400 <= answer.status_code < 500 and json_error(answer), (method, path, body[:80], answer.text)
                tried.add((method, path))
    assert len(tried) > 15


@pytest.mark.parametrize(
    "path",
    ["/auth/activation/%00", "/imports/a%00b", "/me/notifications?cursor=%00", "/organizations/1/members?q=a%00"],
)
def test_nul_in_a_path_or_query_is_a_400(running, path):
    """SQLite takes NUL; PostgreSQL (production) refuses it with an error, which was a 500."""
    admin = login(running.base, "001000000000").json()["access_token"]
    answer = requests.get(f"{running.base}{path}", headers=bearer(admin), timeout=10)
    assert answer.status_code == 400 and json_error(answer)
