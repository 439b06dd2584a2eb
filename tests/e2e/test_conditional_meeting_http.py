"""Conditional GET of one meeting (issue 14, item 2; the running meeting's screen, bench/CAPACITY.md): meetings
versions an invitee's answer, the gateway answers an unchanged one 304 with no RPC (its metrics say
`304_at_gateway`), and the next revalidation after a change the member would notice — a colleague's check-in or
answer, the agenda changed, the meeting cancelled, the meeting starting by the clock, a vote opened or closed, an
opinion added, the minutes published (the portal reads those only when the meeting's version changed) — is a 200
with it; a member
whose invitation was taken away (a transfer) is answered meetings' 404, never a 304."""

from datetime import timedelta

import pytest

from tests.e2e.conftest import post
from tests.e2e.meeting_people import branch_with_members, known_to_meetings, schedule
from tests.e2e.people import get, patch
from tests.e2e.test_conditional_lists_http import answered_at_gateway, known, read, rpc_calls, until

pytestmark = pytest.mark.e2e

ROUTE = "/meetings/<int:meeting_id>"


@pytest.fixture(scope="module")
def world(running):
    """A branch with its secretary and two members, and a member of another branch (meetings knows them all)."""
    people = branch_with_members(running)
    people["colleague"] = known_to_meetings(running, people["factory"].member(people["branch"], activated=True))
    return people


def test_an_unchanged_meeting_is_a_304_answered_by_the_gateway_alone(running, world):
    meeting = schedule(running, world, starts_in=timedelta(days=2), title="Họp chi bộ")
    path, token = f"/meetings/{meeting['id']}", world["member"]["token"]
    etag = known(running, path, token)
    calls, at_gateway = rpc_calls(running, "meetings", "get_meeting"), answered_at_gateway(running, ROUTE)
    for _ in range(5):
        answer = read(running, path, token, etag)
        assert answer.status_code == 304 and answer.content == b"" and answer.headers["ETag"] == etag
    assert rpc_calls(running, "meetings", "get_meeting") == calls  # no RPC for any of them
    assert answered_at_gateway(running, ROUTE) == at_gateway + 5
    theirs = read(running, path, world["colleague"]["token"], etag)  # the same meeting, not known for them: asked
    assert theirs.status_code in (200, 304) and rpc_calls(running, "meetings", "get_meeting") == calls + 1
    assert read(running, path, world["outsider"]["token"], etag).status_code == 404  # not theirs: never a 304


def test_a_colleagues_answer_and_check_in_are_in_the_next_revalidation_with_the_new_counts(running, world):
    meeting = schedule(running, world, starts_in=timedelta(minutes=10), title="Họp chi bộ tháng 12")
    path, token, colleague = f"/meetings/{meeting['id']}", world["member"]["token"], world["colleague"]["token"]
    etag = known(running, path, token)
    assert post(running, f"{path}/rsvp", {"response": "attending"}, colleague).status_code == 200
    answered = until(running, path, token, etag, 200, timeout=5)  # meetings.meeting_updated
    assert answered.json()["attending"] == meeting["attending"] + 1 and answered.json()["my_rsvp"] is None
    etag = until(running, path, token, answered.headers["ETag"], 304).headers["ETag"]
    code = get(running, f"{path}/check-in-code", world["secretary"]["token"]).json()["code"]
    assert post(running, f"{path}/check-in", {"code": code}, colleague).status_code == 200
    counted = until(running, path, token, etag, 200, timeout=5)  # meetings.member_checked_in: no invitees named
    assert counted.json()["checked_in"] == meeting["checked_in"] + 1 and counted.json()["my_check_in"] is None


def test_the_members_own_answer_is_in_their_next_revalidation_at_once(running, world):
    meeting = schedule(running, world, starts_in=timedelta(days=2), title="Họp chuyên đề")
    path, token = f"/meetings/{meeting['id']}", world["member"]["token"]
    etag = known(running, path, token)
    assert post(running, f"{path}/rsvp", {"response": "attending"}, token).status_code == 200
    mine = read(running, path, token, etag)  # no waiting: this gateway forgot it as it relayed the answer
    assert mine.status_code == 200 and mine.json()["my_rsvp"]["response"] == "attending"


def test_the_agenda_changed_or_the_meeting_cancelled_is_in_the_next_revalidation(running, world):
    meeting = schedule(running, world, starts_in=timedelta(days=2), title="Họp chi bộ")
    path, token, secretary = f"/meetings/{meeting['id']}", world["member"]["token"], world["secretary"]["token"]
    etag = known(running, path, token)
    agenda = [{"title": "Kiểm điểm công tác tháng", "document_ids": []}, {"title": "Kết nạp đảng viên mới"}]
    assert patch(running, path, {"agenda": agenda}, secretary).status_code == 200
    changed = until(running, path, token, etag, 200, timeout=5)
    assert [item["title"] for item in changed.json()["agenda"]] == [item["title"] for item in agenda]
    etag = until(running, path, token, changed.headers["ETag"], 304).headers["ETag"]
    assert post(running, f"{path}/cancel", {"reason": "Bão số 9"}, secretary).status_code == 200
    cancelled = until(running, path, token, etag, 200, timeout=5)
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "Bão số 9"


def test_a_vote_an_opinion_and_the_minutes_are_each_in_the_next_revalidation_of_the_meeting(running, world):
    """Its body does not show them: its ETag changes, so the portal's look reads votes, opinions and minutes."""
    meeting = schedule(running, world, starts_in=timedelta(minutes=10), title="Họp chi bộ có biểu quyết")
    path, token, secretary = f"/meetings/{meeting['id']}", world["member"]["token"], world["secretary"]["token"]
    assert post(running, f"{path}/start", None, secretary).status_code == 200
    etag = until(running, path, token, known(running, path, token), 304).headers["ETag"]

    def next_look(etag):
        """The ETag of the 200 the member's old one gets once the change is said, after which it holds (304)."""
        changed = until(running, path, token, etag, 200, timeout=5)
        assert changed.headers["ETag"] != etag
        return until(running, path, token, changed.headers["ETag"], 304).headers["ETag"]

    vote = post(running, f"{path}/votes", {"question": "Thông qua báo cáo tháng"}, secretary)
    assert vote.status_code == 201, vote.text
    etag = next_look(etag)
    opinion = post(running, f"{path}/opinions", {"body": "Đề nghị bổ sung chỉ tiêu."}, world["colleague"]["token"])
    assert opinion.status_code == 201, opinion.text
    etag = next_look(etag)
    assert post(running, f"/votes/{vote.json()['id']}/close", None, secretary).status_code == 200
    etag = next_look(etag)
    assert post(running, f"{path}/close", None, secretary).status_code == 200
    etag = next_look(etag)
    minutes = {"body": "Chi bộ thống nhất báo cáo.", "resolutions": []}
    assert post(running, f"{path}/minutes", minutes, secretary).status_code in (200, 201)
    next_look(etag)


def test_the_meeting_starting_by_the_clock_is_in_the_next_revalidation_with_no_event(running, world):
    meeting = schedule(running, world, starts_in=timedelta(seconds=5), title="Họp ngay")
    path, token = f"/meetings/{meeting['id']}", world["member"]["token"]
    first = read(running, path, token)
    assert first.json()["status"] == "scheduled"
    started = until(running, path, token, first.headers["ETag"], 200, timeout=15)
    assert started.json()["status"] == "in_progress"


def test_a_member_whose_invitation_is_taken_away_is_answered_404_not_304(running, world):
    factory = world["factory"]
    mover = known_to_meetings(running, factory.member(world["branch"], activated=True))
    meeting = schedule(running, world, starts_in=timedelta(days=3), title="Họp chi bộ cũ")  # the mover is invited
    path = f"/meetings/{meeting['id']}"
    etag = known(running, path, mover["token"])
    elsewhere = world["outsider"]["organization_id"]
    issued = post(running, f"/members/{mover['id']}/transfers", {"to_organization_id": elsewhere}, factory.admin)
    assert issued.status_code == 201, issued.text
    assert post(running, f"/transfers/{issued.json()['id']}/accept", None, factory.admin).status_code == 200
    known_to_meetings(running, mover, elsewhere)  # meetings applied it: the coming meeting is no longer theirs
    until(running, path, mover["token"], etag, 404, timeout=5)
    for _ in range(3):
        assert read(running, path, mover["token"], etag).status_code == 404
