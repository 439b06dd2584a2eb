"""Generated requests from our own OpenAPI document (schemathesis): whatever a client sends, never a 500.

Bounded (a few examples per operation) so the whole suite stays quick; signed in as an ordinary member
of its own, since the generated requests change that member's data.
"""
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.e2e.conftest import GOOD_PASSWORD, bearer, last_code, login
from tests.e2e.people import known_to_identity
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def fuzzing_member(running):
    """A member of its own: the generated requests change their data (PATCH /me, preferences…)."""
    admin = login(running.base, "001000000000").json()["access_token"]
    branch = requests.get(f"{running.base}/me", headers=bearer(admin), timeout=10).json()["organization_id"]
    requests.post(f"{running.base}/members", headers=bearer(admin), timeout=10, json={
        "citizen_id": "001093000999", "full_name": "Thử Nghiệm Ngẫu Nhiên", "status": "official",
        "organization_id": branch, "phone": "+84912000999", "date_of_birth": "1993-03-03",
        "admission_date": "2018-03-03", "official_date": "2019-03-03"})

    # before identity knows the member a request would be a stranger's, and a second one waits 60 s
    wait_for(lambda: known_to_identity(running, "001093000999"), message="identity to know the fuzzing member")
    answer = requests.post(f"{running.base}/auth/activation", json={"citizen_id": "001093000999"}, timeout=10).json()
    verified = requests.post(f"{running.base}/auth/activation/{answer['activation_id']}/verify", timeout=10,
                             json={"otp": last_code(running, "+84912000999"), "new_password": GOOD_PASSWORD})
    return verified.json()["access_token"]


def test_no_generated_request_gets_a_server_error(running):
    spec = requests.get(f"{running.base}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(spec)
    root = running.base.rsplit("/api/v1", 1)[0]
    token = fuzzing_member(running)
    session = requests.Session()
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith(("/logout", "/password", "/vneid/login")) or "sessions" in operation.path:
            continue   # would end the session the fuzzing signs in with, or leave the API

        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)   # the same examples every run: CI must not be a lottery
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call(base_url=root, session=session, headers={"Authorization": f"Bearer {token}"},
                                 timeout=15)
            case.validate_response(response, checks=[not_a_server_error])

        check()
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert len(tried) > 25
