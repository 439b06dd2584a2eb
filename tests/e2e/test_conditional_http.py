"""Conditional GET /me (issue 14, item 2): members versions its answer, the gateway answers an unchanged one 304
without an RPC, forgets a version as soon as members says the record changed, and never answers 304 for a token
it would refuse or for another member's version. Counted where the RPCs are served: members' own metrics."""

import re

import pytest
import requests

from tests.e2e.conftest import GOOD_PASSWORD, bearer, error_code, login, post
from tests.e2e.people import Factory, patch
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

GET_ME_CALLS = re.compile(r'^sotay_rpc_calls_total\{method="get_me",outcome="ok",service="members"\} ([\d.e+]+)$', re.M)


@pytest.fixture(scope="module")
def world(running):
    factory = Factory(running)
    branch = factory.branch()
    return {
        "factory": factory,
        "branch": branch,
        "member": factory.member(branch, activated=True),
        "neighbour": factory.member(branch, activated=True),
    }


def me(running, token, etag=None):
    headers = {**bearer(token), **({"If-None-Match": etag} if etag else {})}
    return requests.get(f"{running.base}/me", headers=headers, timeout=15)


def get_me_calls(running):
    """How many get_me RPCs members has answered (every replica's port is its own; the suite runs one)."""
    text = requests.get(f"http://127.0.0.1:{running.suite.port('members')}/metrics", timeout=10).text
    found = GET_ME_CALLS.search(text)
    return float(found.group(1)) if found else 0.0


def me_until(running, token, etag, status, timeout=10):
    """The first answer of `status` to a conditional GET /me (a Response of a 4xx is falsy: hence the tuple)."""
    return wait_for(
        lambda: (answer := me(running, token, etag)).status_code == status and (answer,),
        timeout=timeout,
        message=f"a {status} to GET /me with If-None-Match",
    )[0]


def known_at_the_gateway(running, token, etag):
    """The gateway learns a version from the answer it relays; its feed may still be connecting at first."""
    return me_until(running, token, etag, 304)


def test_an_unchanged_record_is_a_304_answered_by_the_gateway_alone(running, world):
    token = world["member"]["token"]
    first = me(running, token)
    assert first.status_code == 200 and first.json()["id"] == world["member"]["id"]
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"
    known_at_the_gateway(running, token, etag)
    before = get_me_calls(running)
    for _ in range(5):
        answer = me(running, token, etag)
        assert answer.status_code == 304 and answer.content == b"" and answer.headers["ETag"] == etag
    assert get_me_calls(running) == before  # no RPC for any of them
    assert me(running, token, 'W/"something-else"').status_code == 200
    assert get_me_calls(running) == before + 1


def test_an_officers_change_through_another_path_is_seen_at_the_next_conditional_request(running, world):
    token = world["member"]["token"]
    etag = me(running, token).headers["ETag"]
    known_at_the_gateway(running, token, etag)
    changed = patch(running, f"/members/{world['member']['id']}", {"full_name": "Đã Đổi Tên"}, world["factory"].admin)
    assert changed.status_code == 200, changed.text
    # members' event reaches the gateway's feed: the next conditional request asks members again
    fresh = me_until(running, token, etag, 200, timeout=5)
    assert fresh.json()["full_name"] == "Đã Đổi Tên" and fresh.headers["ETag"] != etag


def test_the_members_own_change_is_seen_at_once(running, world):
    token = world["member"]["token"]
    etag = me(running, token).headers["ETag"]
    known_at_the_gateway(running, token, etag)
    assert patch(running, "/me", {"phone": "0987654321"}, token).status_code == 200
    after = me(running, token, etag)  # no waiting: this gateway forgot the version as it relayed the change
    assert after.status_code == 200 and after.json()["phone"] != world["member"]["phone"]


def test_another_members_version_never_answers_for_them(running, world):
    mine = me(running, world["member"]["token"])
    known_at_the_gateway(running, world["member"]["token"], mine.headers["ETag"])
    theirs = me(running, world["neighbour"]["token"], mine.headers["ETag"])
    assert theirs.status_code == 200 and theirs.json()["id"] == world["neighbour"]["id"]
    assert theirs.headers["ETag"] != mine.headers["ETag"]


def test_a_revoked_session_gets_401_not_304(running, world):
    token = login(running.base, world["member"]["citizen_id"], GOOD_PASSWORD).json()["access_token"]
    etag = me(running, token).headers["ETag"]
    known_at_the_gateway(running, token, etag)
    assert post(running, "/auth/logout", token=token).status_code == 200
    refused = me_until(running, token, etag, 401)
    assert error_code(refused) == "invalid_token"
    assert me(running, "not-a-token", etag).status_code == 401
