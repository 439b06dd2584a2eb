"""Sessions that end (issue 8, items 4 and 5): once a session ends — logout, a revoked session, a re-used
refresh token, a password change, leaving the party — every service refuses its access token within
seconds, a restarted service included; a member who left the party cannot sign in again."""

import time

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcClient

from tests.e2e.conftest import GOOD_PASSWORD, bearer, error_code, login, post
from tests.e2e.people import Factory
from tests.e2e.test_members_http import ORG_MATRIX
from tests.support.calls import RPC_CALLS, rpc_status
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

# one protected call of each service, over HTTP through the gateway and directly over RPC
HTTP_CALLS = {"members": "/me", "notify": "/me/notifications", "identity": "/me/sessions"}
ENDED_WITHIN = 5.0  # seconds: the worst case measured is well under one (README, "Security model")


def answers(running, token):
    """{call: status} of every service for `token`: HTTP status via the gateway, and each service's own
    answer over RPC (200, or the error's HTTP status), so no service hides behind the gateway's check."""
    seen = {
        f"http {service}": requests.get(f"{running.base}{path}", headers=bearer(token), timeout=15).status_code
        for service, path in HTTP_CALLS.items()
    }
    with ClusterRpcClient(context_data={"auth_token": token}, uri=running.amqp_uri, timeout=15) as client:
        for service, method in RPC_CALLS.items():
            seen[f"rpc {service}"] = rpc_status(getattr(client[service], method))
    return seen


def all_refused(running, token):
    seen = answers(running, token)
    return seen if set(seen.values()) == {401} else None


def refused_within_seconds(running, token):
    """Waits until every service refuses `token`; returns how long that took."""
    started = time.monotonic()
    wait_for(
        lambda: all_refused(running, token),
        timeout=ENDED_WITHIN,
        interval=0.05,
        message="every service to refuse the ended session's token",
    )
    return time.monotonic() - started


def accepted_everywhere(running, token):
    seen = answers(running, token)
    assert set(seen.values()) == {200}, seen


@pytest.fixture(scope="module")
def world(running):
    """A branch of its own, and an activated member of it who signs in again and again."""
    factory = Factory(running)
    branch = factory.branch()
    return {"factory": factory, "branch": branch, "member": factory.member(branch, activated=True)}


def signed_in(running, member):
    """A new session of `member`: their tokens."""
    answer = login(running.base, member["citizen_id"], GOOD_PASSWORD)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_logout_is_refused_by_every_service_within_seconds(running, world):
    tokens = signed_in(running, world["member"])
    accepted_everywhere(running, tokens["access_token"])
    assert post(running, "/auth/logout", token=tokens["access_token"]).status_code == 200
    took = refused_within_seconds(running, tokens["access_token"])
    print(f"logout → 401 from every service after {took:.3f}s")
    assert (
        error_code(requests.get(f"{running.base}/me", headers=bearer(tokens["access_token"]), timeout=15))
        == "invalid_token"
    )


def test_a_revoked_session_is_refused_by_every_service(running, world):
    mine = signed_in(running, world["member"])["access_token"]
    other = signed_in(running, world["member"])["access_token"]
    accepted_everywhere(running, other)
    sessions_of_other = requests.get(f"{running.base}/me/sessions", headers=bearer(other), timeout=15).json()["items"]
    other_id = next(s["id"] for s in sessions_of_other if s["current"])
    assert (
        requests.delete(f"{running.base}/me/sessions/{other_id}", headers=bearer(mine), timeout=15).status_code == 200
    )
    refused_within_seconds(running, other)
    accepted_everywhere(running, mine)


def test_a_reused_refresh_token_ends_the_session_everywhere(running, world):
    first = signed_in(running, world["member"])
    rotated = post(running, "/auth/refresh", {"refresh_token": first["refresh_token"]}).json()
    accepted_everywhere(running, rotated["access_token"])
    # the spent refresh token again: someone else holds a copy, the whole session ends
    assert post(running, "/auth/refresh", {"refresh_token": first["refresh_token"]}).status_code == 401
    refused_within_seconds(running, rotated["access_token"])
    refused_within_seconds(running, first["access_token"])


def test_a_password_change_ends_the_other_sessions_everywhere(running, world):
    member = world["factory"].member(world["branch"], activated=True)
    first, second = member["tokens"], signed_in(running, member)
    accepted_everywhere(running, first["access_token"])
    changed = post(
        running,
        "/auth/password",
        {"current_password": GOOD_PASSWORD, "new_password": "Thuyền về bến cũ 2026"},
        token=second["access_token"],
    )
    assert changed.status_code == 200, changed.text
    refused_within_seconds(running, first["access_token"])
    accepted_everywhere(running, second["access_token"])  # the session that changed it goes on


def test_a_restarted_service_never_accepts_a_token_that_ended_before_it_started(running, world):
    tokens = signed_in(running, world["member"])
    assert post(running, "/auth/logout", token=tokens["access_token"]).status_code == 200
    refused_within_seconds(running, tokens["access_token"])
    running.suite.stop_service("members")
    running.suite.start_service("members")
    seen = []

    def members_answers():
        with ClusterRpcClient(
            context_data={"auth_token": tokens["access_token"]}, uri=running.amqp_uri, timeout=2
        ) as client:
            try:
                seen.append(rpc_status(client.members.get_me))
            except Exception:  # not started yet (no queue, or no answer before the deadline)
                seen.append(None)
        return seen[-1] == 401

    try:
        wait_for(members_answers, timeout=60, interval=0.1, message="the restarted members to answer")
    finally:
        running.suite.wait_healthy()
        # the gateway sees members back within a fraction of a second (shared/rpc.py Availability)
        member = signed_in(running, world["member"])["access_token"]
        wait_for(
            lambda: requests.get(f"{running.base}/me", headers=bearer(member), timeout=15).status_code == 200,
            timeout=10,
            message="the gateway to reach the restarted members",
        )
    assert 200 not in seen, seen


@pytest.fixture(scope="module")
def left(running, world):
    """A member who signed in, then was expelled: their tokens from before, and how long until refused."""
    member = world["factory"].member(world["branch"], activated=True)
    refreshed = post(running, "/auth/refresh", {"refresh_token": member["tokens"]["refresh_token"]}).json()
    branch_list = f"{running.base}/organizations/{world['branch']['id']}/members"
    assert requests.get(branch_list, headers=bearer(refreshed["access_token"]), timeout=15).status_code == 200
    accepted_everywhere(running, refreshed["access_token"])
    expelled = requests.patch(
        f"{running.base}/members/{member['id']}",
        headers=bearer(world["factory"].admin),
        timeout=15,
        json={"status": "expelled", "left_on": "2026-11-20", "leaving_reason": "Khai trừ ra khỏi Đảng"},
    )
    assert expelled.status_code == 200, expelled.text
    took = refused_within_seconds(running, refreshed["access_token"])
    return {"citizen_id": member["citizen_id"], "tokens": refreshed, "member": member, "took": took}


def test_leaving_the_party_ends_every_session_and_refuses_sign_in(running, world, left):
    print(f"expelled → 401 from every service after {left['took']:.3f}s")
    token = left["tokens"]["access_token"]
    assert (
        requests.get(
            f"{running.base}/organizations/{world['branch']['id']}/members", headers=bearer(token), timeout=15
        ).status_code
        == 401
    )
    refresh = post(running, "/auth/refresh", {"refresh_token": left["tokens"]["refresh_token"]})
    assert refresh.status_code == 401
    # signing in again: the same answer as a wrong password, so a stranger typing this ID learns nothing
    again = login(running.base, left["citizen_id"], GOOD_PASSWORD)
    wrong = login(running.base, world["member"]["citizen_id"], "not the password")
    assert (again.status_code, again.json()) == (wrong.status_code, wrong.json()) == (401, again.json())
    assert error_code(again) == "invalid_credentials"
    # nor can they start again with a code: the answer of an unknown citizen ID, and no SMS
    phone = left["member"]["phone"]
    sent = len(running.sms(phone))
    post(running, "/auth/activation", {"citizen_id": left["citizen_id"]})
    post(running, "/auth/password/forgot", {"citizen_id": left["citizen_id"]})
    assert len(running.sms(phone)) == sent


@pytest.mark.parametrize("endpoint", sorted(ORG_MATRIX), ids=lambda e: " ".join(e))
def test_a_member_who_left_the_party_is_refused_every_organisation_endpoint(running, world, left, endpoint):
    method, path = endpoint
    body = {"PATCH": {"name": "Tên mới"}, "PUT": {"state": "pilot"}}.get(method)
    response = requests.request(
        method,
        f"{running.base}{path.format(id=world['branch']['id'])}",
        headers=bearer(left["tokens"]["access_token"]),
        json=body,
        timeout=15,
    )
    assert response.status_code == 401


def test_a_member_who_left_the_party_cannot_sign_in_with_vneid(running, left):
    from tests.e2e.test_vneid_http import browser_signs_in

    browser, callback = browser_signs_in(running, left["citizen_id"])
    response = browser.get(callback, timeout=10)
    # the answer of a citizen ID that is not in the member database
    assert response.status_code == 403 and error_code(response) == "not_a_member"
