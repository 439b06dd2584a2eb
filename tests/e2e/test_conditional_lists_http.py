"""Conditional GET of a member's document list and meeting list (issue 14, item 2): content and meetings version
their answers, the gateway answers an unchanged one 304 with no RPC (its metrics say `304_at_gateway`), and the
next revalidation after a change the member would notice — a document published to their branch, a meeting
scheduled for them, their own read receipt or answer, a colleague's answer, the meeting starting — is a 200
with it."""

import re
from datetime import timedelta

import pytest
import requests

from tests.e2e.conftest import bearer, post
from tests.e2e.meeting_people import branch_with_members, known_to_meetings, schedule
from tests.e2e.test_content_http import holds_position_in_content, known_to_content, published
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(running):
    """A branch with its secretary and two members, a member of another branch (content and meetings know them)."""
    people = branch_with_members(running)
    factory = people["factory"]
    people["colleague"] = known_to_meetings(running, factory.member(people["branch"], activated=True))
    for person in ("secretary", "member", "colleague", "outsider"):
        known_to_content(running, people[person])
    holds_position_in_content(running, people["secretary"], people["branch"])
    return people


def read(running, path, token, etag=None):
    headers = {**bearer(token), **({"If-None-Match": etag} if etag else {})}
    return requests.get(f"{running.base}{path}", headers=headers, timeout=15)


def until(running, path, token, etag, status, timeout=10):
    """The first answer of `status` to a conditional GET (a Response of a 4xx is falsy: hence the tuple)."""
    return wait_for(
        lambda: (answer := read(running, path, token, etag)).status_code == status and (answer,),
        timeout=timeout,
        message=f"a {status} to GET {path} with If-None-Match",
    )[0]


def answered_at_gateway(running, route=None):
    """How many 304s the gateway answered by itself: to `route`, or to any route."""
    text = requests.get(running.metrics_url, timeout=10).text
    route = re.escape(route) if route else '[^"]*'
    pattern = rf'^sotay_conditional_reads_total\{{answer="304_at_gateway",route="{route}"\}} ([\d.e+]+)$'
    return sum(float(n) for n in re.findall(pattern, text, re.M))


def rpc_calls(running, service, method):
    text = requests.get(f"http://127.0.0.1:{running.suite.port(service)}/metrics", timeout=10).text
    pattern = rf'^sotay_rpc_calls_total\{{method="{method}",outcome="ok",service="{service}"\}} ([\d.e+]+)$'
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def known(running, path, token):
    """The ETag of a 200, once the gateway answers it 304 by itself: its feeds may still be connecting at first, and
    the events of what the test just did (scheduling a meeting) may come after the first read and forget it."""
    first = read(running, path, token)
    assert first.status_code == 200, first.text
    assert first.headers["ETag"].startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"
    etag, total = first.headers["ETag"], answered_at_gateway(running)
    wait_for(
        lambda: read(running, path, token, etag).status_code == 304 and answered_at_gateway(running) > total,
        timeout=10,
        message=f"a 304 to GET {path} answered at the gateway",
    )
    return etag


@pytest.mark.parametrize(
    "path, route, service, method",
    [
        ("/documents?category=resolution", "/documents", "content", "list_documents"),
        ("/me/meetings", "/me/meetings", "meetings", "my_meetings"),
    ],
)
def test_an_unchanged_list_is_a_304_answered_by_the_gateway_alone(running, world, path, route, service, method):
    token = world["member"]["token"]
    etag = known(running, path, token)
    calls, at_gateway = rpc_calls(running, service, method), answered_at_gateway(running, route)
    for _ in range(5):
        answer = read(running, path, token, etag)
        assert answer.status_code == 304 and answer.content == b"" and answer.headers["ETag"] == etag
    assert rpc_calls(running, service, method) == calls  # no RPC for any of them
    assert answered_at_gateway(running, route) == at_gateway + 5
    read(running, path, world["colleague"]["token"], etag)  # the same list maybe, but not known for them: asked
    assert rpc_calls(running, service, method) == calls + 1


def test_a_document_published_to_the_members_branch_is_in_the_next_revalidation(running, world):
    token = world["member"]["token"]
    etag = known(running, "/documents", token)
    administrator = {**world, "secretary": {"token": world["factory"].admin}}
    other_branch = {"id": world["outsider"]["organization_id"]}
    elsewhere = published(administrator, running, audience=other_branch, title="Cho chi bộ khác")
    answer = read(running, "/documents", token, etag)  # another branch's: a 304 or the same list, never it
    assert answer.status_code == 304 or elsewhere["id"] not in [item["id"] for item in answer.json()["items"]]
    document = published(world, running, title="Nghị quyết mới cho chi bộ")
    fresh = until(running, "/documents", token, etag, 200, timeout=5)
    assert fresh.json()["items"][0]["id"] == document["id"] and fresh.headers["ETag"] != etag
    # the member's own read receipt: at once, no event awaited
    etag = until(running, "/documents", token, fresh.headers["ETag"], 304).headers["ETag"]
    assert post(running, f"/documents/{document['id']}/read", None, token).status_code == 200
    after = read(running, "/documents", token, etag)
    assert after.status_code == 200 and after.json()["items"][0]["read"] is True


def test_a_meeting_scheduled_for_the_member_is_in_the_next_revalidation(running, world):
    token = world["member"]["token"]
    etag = known(running, "/me/meetings", token)
    meeting = schedule(running, world, title="Họp chi bộ đột xuất", kind="extraordinary")
    fresh = until(running, "/me/meetings", token, etag, 200, timeout=5)
    assert meeting["id"] in [item["id"] for item in fresh.json()["items"]]


def test_an_answer_the_member_or_a_colleague_gives_is_in_the_next_revalidation(running, world):
    meeting = schedule(running, world, starts_in=timedelta(days=2), title="Họp chuyên đề")
    token = world["member"]["token"]

    def shown(answer):
        return next(item for item in answer.json()["items"] if item["id"] == meeting["id"])

    etag = known(running, "/me/meetings", token)
    rsvp = {"response": "attending"}
    assert post(running, f"/meetings/{meeting['id']}/rsvp", rsvp, token).status_code == 200
    mine = read(running, "/me/meetings", token, etag)  # no waiting: this gateway forgot it as it relayed the answer
    assert mine.status_code == 200 and shown(mine)["my_rsvp"]["response"] == "attending"
    etag = known(running, "/me/meetings", token)
    assert post(running, f"/meetings/{meeting['id']}/rsvp", rsvp, world["colleague"]["token"]).status_code == 200
    theirs = until(running, "/me/meetings", token, etag, 200, timeout=5)  # meetings.meeting_updated
    assert shown(theirs)["attending"] == shown(mine)["attending"] + 1


def test_a_meeting_starting_is_in_the_next_revalidation_with_no_event(running, world):
    meeting = schedule(running, world, starts_in=timedelta(seconds=3), title="Họp ngay")
    token = world["member"]["token"]
    first = read(running, "/me/meetings", token)
    assert next(i for i in first.json()["items"] if i["id"] == meeting["id"])["status"] == "scheduled"
    started = until(running, "/me/meetings", token, first.headers["ETag"], 200, timeout=10)
    assert next(i for i in started.json()["items"] if i["id"] == meeting["id"])["status"] == "in_progress"


def test_a_transferred_members_lists_are_the_new_branchs_at_the_next_revalidation(running, world):
    factory = world["factory"]
    mover = known_to_meetings(running, known_to_content(running, factory.member(world["branch"], activated=True)))
    administrator = {**world, "secretary": {"token": factory.admin}}
    theirs = published(administrator, running, audience={"id": world["outsider"]["organization_id"]}, title="Mới")
    schedule(running, world, starts_in=timedelta(days=3), title="Họp chi bộ cũ")  # the mover is invited
    documents, meetings = (known(running, path, mover["token"]) for path in ("/documents", "/me/meetings"))
    issued = post(
        running, f"/members/{mover['id']}/transfers", {"to_organization_id": theirs["audience"][0]}, factory.admin
    )
    assert issued.status_code == 201, issued.text
    assert post(running, f"/transfers/{issued.json()['id']}/accept", None, factory.admin).status_code == 200
    known_to_content(running, mover, theirs["audience"][0])
    moved = until(running, "/documents", mover["token"], documents, 200, timeout=5)
    assert theirs["id"] in [item["id"] for item in moved.json()["items"]]
    # the branch's meeting they were invited to is no longer theirs
    left = until(running, "/me/meetings", mover["token"], meetings, 200, timeout=5)
    assert all(item["organization_id"] != world["branch"]["id"] for item in left.json()["items"])
