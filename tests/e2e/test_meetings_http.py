"""A branch meeting over HTTP, from invitation to minutes, as its secretary, members and a stranger see it."""

import os
import re
import sqlite3
from datetime import timedelta

import pytest
import requests

from tests.e2e.conftest import bearer, error_code, post
from tests.e2e.meeting_people import at, branch_with_members, known_to_meetings, meeting_body, schedule
from tests.e2e.people import get, patch
from tests.e2e.test_content_http import document, holds_position_in_content, known_to_content, published
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def people(running):
    return branch_with_members(running)


@pytest.fixture(scope="module")
def meeting(running, people):
    """A meeting starting in 10 minutes: inside its check-in window."""
    return schedule(running, people)


def token(people, who):
    return people[who]["token"]


def test_the_branch_is_invited_and_a_member_of_another_branch_is_told_nothing(running, people, meeting):
    assert meeting["invited"] == 3 and meeting["status"] == "scheduled"
    mine = get(running, "/me/meetings", token(people, "member")).json()["items"]
    assert meeting["id"] in [m["id"] for m in mine]
    assert get(running, "/me/meetings", token(people, "outsider")).json()["items"] == []
    path = f"/meetings/{meeting['id']}"
    assert get(running, path, token(people, "probationary")).status_code == 200
    for suffix in ("", "/opinions", "/votes", "/minutes", "/invitees"):
        answer = get(running, path + suffix, token(people, "outsider"))
        assert answer.status_code == 404 and error_code(answer) == "not_found", suffix
    listed = get(running, f"/organizations/{people['branch']['id']}/meetings", token(people, "member")).json()
    assert [m["id"] for m in listed["items"]] == [meeting["id"]]
    assert (
        get(running, f"/organizations/{people['branch']['id']}/meetings", token(people, "outsider")).status_code == 404
    )


def test_a_plain_member_cannot_schedule_and_a_stranger_does_not_know_the_branch(running, people):
    path = f"/organizations/{people['branch']['id']}/meetings"
    assert error_code(post(running, path, meeting_body(), token(people, "member"))) == "forbidden"
    assert post(running, path, meeting_body(), token(people, "outsider")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"starts_at": "2026-12-05T19:30:00", "ends_at": "2026-12-05T21:30:00"},  # no offset
        {"starts_at": at(timedelta(days=2)), "ends_at": at(timedelta(days=1))},  # ends before it starts
        {"starts_at": at(timedelta(days=400)), "ends_at": at(timedelta(days=400, hours=2))},  # over a year ahead
        {"kind": "weekly"},
        {"repeat": {"day": 32, "time": "19:30"}},
    ],
)
def test_bad_times_and_kinds_are_400_with_the_field_named(running, people, body):
    answer = post(
        running,
        f"/organizations/{people['branch']['id']}/meetings",
        {**meeting_body(), **body},
        token(people, "secretary"),
    )
    assert answer.status_code == 400 and error_code(answer) == "validation_error"
    assert set(answer.json()["error"]["details"]) & set(body)


def test_an_agendas_papers_are_documents_published_to_the_branch(running, people):
    """A published document whose audience is the branch is a paper; a draft, another branch's, or an unknown id
    is a 400 naming it, when scheduling and when changing the agenda."""
    secretary, branch, factory = people["secretary"], people["branch"], people["factory"]
    holds_position_in_content(running, known_to_content(running, secretary), branch)
    writer = {"secretary": secretary, "branch": branch}
    paper = published(writer, running)["id"]
    draft = document(writer, running)["id"]
    outsiders = {"id": known_to_content(running, people["outsider"])["organization_id"]}
    elsewhere = published({"secretary": {"token": factory.admin}, "branch": outsiders}, running)["id"]
    agenda = [{"title": "Quán triệt nghị quyết", "document_ids": [paper]}]
    meeting = schedule(running, people, starts_in=timedelta(days=2), agenda=agenda)
    assert meeting["agenda"][0]["document_ids"] == [paper]
    path = f"/organizations/{branch['id']}/meetings"
    for wrong in (draft, elsewhere, 987654321):
        body = meeting_body(agenda=[{"title": "Tài liệu", "document_ids": [paper, wrong]}])
        for answer in (
            post(running, path, body, token(people, "secretary")),
            patch(running, f"/meetings/{meeting['id']}", {"agenda": body["agenda"]}, token(people, "secretary")),
        ):
            assert answer.status_code == 400 and error_code(answer) == "validation_error", answer.text
            (message,) = answer.json()["error"]["details"]["agenda"]
            assert re.findall(r"\d+", message) == [str(wrong)] * 2  # named in Vietnamese and in English, alone
    kept = get(running, f"/meetings/{meeting['id']}", token(people, "member")).json()
    assert kept["agenda"][0]["document_ids"] == [paper]


def test_members_answer_and_the_secretary_records_an_answer_for_one_without_the_app(running, people, meeting):
    path = f"/meetings/{meeting['id']}/rsvp"
    refused = post(running, path, {"response": "absent"}, token(people, "member"))
    assert refused.status_code == 400 and "reason" in refused.json()["error"]["details"]
    assert post(running, path, {"response": "attending"}, token(people, "member")).json()["recorded_by"] is None
    recorded = post(
        running,
        path,
        {"response": "absent", "reason": "Nằm viện", "member_id": people["probationary"]["id"]},
        token(people, "secretary"),
    )
    assert recorded.status_code == 200 and recorded.json()["recorded_by"] == people["secretary"]["id"]
    assert get(running, f"/meetings/{meeting['id']}", token(people, "member")).json()["my_rsvp"]["response"] == (
        "attending"
    )


def test_check_in_by_the_code_on_the_secretarys_screen_once(running, people, meeting):
    path = f"/meetings/{meeting['id']}"
    assert error_code(get(running, f"{path}/check-in-code", token(people, "member"))) == "forbidden"
    shown = get(running, f"{path}/check-in-code", token(people, "secretary"))
    assert shown.status_code == 200, shown.text
    shown = shown.json()
    assert len(shown["code"]) == 6 and shown["qr"] == f"sotay:checkin:{meeting['id']}:{shown['code']}"
    assert shown["image"].startswith("data:image/svg+xml")  # the QR code drawn, for a screen without an encoder
    wrong = f"{(int(shown['code']) + 500_000) % 1_000_000:06d}"
    answer = post(running, f"{path}/check-in", {"code": wrong}, token(people, "member"))
    assert answer.status_code == 400 and error_code(answer) == "invalid_code"
    first = post(running, f"{path}/check-in", {"code": shown["code"]}, token(people, "member"))
    assert first.status_code == 200 and first.json()["late"] is False
    again = post(running, f"{path}/check-in", {"code": shown["code"]}, token(people, "member"))
    assert again.status_code == 200 and again.json() == first.json()
    assert get(running, path, token(people, "member")).json()["my_check_in"] == first.json()


def test_check_in_outside_the_window_is_409(running, people):
    tomorrow = schedule(running, people, starts_in=timedelta(days=1))
    answer = post(running, f"/meetings/{tomorrow['id']}/check-in", {"code": "123456"}, token(people, "member"))
    assert answer.status_code == 409 and error_code(answer) == "check_in_closed"


def test_opinions_only_for_invitees_hidden_ones_keep_their_place(running, people, meeting):
    path = f"/meetings/{meeting['id']}/opinions"
    item = meeting["agenda"][0]["id"]
    created = post(running, path, {"body": "Đề nghị thêm chỉ tiêu", "agenda_item_id": item}, token(people, "member"))
    assert created.status_code == 201, created.text
    assert post(running, path, {"body": "?"}, token(people, "outsider")).status_code == 404
    hid = post(running, f"/opinions/{created.json()['id']}/hide", None, token(people, "secretary"))
    assert hid.status_code == 200 and hid.json()["hidden_by"] == people["secretary"]["id"]
    seen = get(running, path, token(people, "probationary")).json()["items"]
    assert [(o["hidden"], o["body"]) for o in seen] == [(True, None)]


def _tables(running):
    return sqlite3.connect(os.path.join(running.data_dir, "meetings.db"))


def test_votes_one_ballot_each_officials_only_results_after_close_secret_ones_unlinked(running, people, meeting):
    votes = f"/meetings/{meeting['id']}/votes"
    body = {"question": "Thông qua nghị quyết tháng?", "secret": True}
    assert error_code(post(running, votes, body, token(people, "member"))) == "forbidden"
    vote = post(running, votes, body, token(people, "secretary"))
    assert vote.status_code == 201, vote.text
    vote = vote.json()
    assert post(running, f"/meetings/{meeting['id']}/start", None, token(people, "secretary")).status_code == 200
    ballots = f"/votes/{vote['id']}/ballots"
    assert error_code(post(running, ballots, {"choice": "agree"}, token(people, "probationary"))) == "forbidden"
    assert post(running, ballots, {"choice": "agree"}, token(people, "outsider")).status_code == 404
    assert post(running, ballots, {"choice": "agree"}, token(people, "member")).status_code == 201
    second = post(running, ballots, {"choice": "disagree"}, token(people, "member"))
    assert second.status_code == 409 and error_code(second) == "already_voted"
    assert post(running, ballots, {"choice": "disagree"}, token(people, "secretary")).status_code == 201
    assert get(running, f"/votes/{vote['id']}", token(people, "member")).json()["results"] is None  # open: never

    with _tables(running) as db:
        columns = {
            table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")] for table in ("voters", "tallies")
        }
        assert columns == {"voters": ["vote_id", "member_id"], "tallies": ["vote_id", "choice", "count"]}
        assert not db.execute("SELECT 1 FROM open_ballots WHERE vote_id = ?", (vote["id"],)).fetchall()
        assert dict(db.execute("SELECT choice, count FROM tallies WHERE vote_id = ?", (vote["id"],)).fetchall()) == {
            "agree": 1,
            "disagree": 1,
            "abstain": 0,
        }

    closed = post(running, f"/votes/{vote['id']}/close", None, token(people, "secretary")).json()
    assert closed["status"] == "closed"
    assert closed["results"]["counts"] == {"agree": 1, "disagree": 1, "abstain": 0}
    assert closed["results"]["eligible"] == 2 and closed["results"]["cast"] == 2
    assert get(running, f"/votes/{vote['id']}", token(people, "outsider")).status_code == 404


def test_minutes_are_published_to_the_invitees_only(running, people, meeting):
    path = f"/meetings/{meeting['id']}/minutes"
    body = {"body": "Chi bộ đã thảo luận…", "resolutions": ["Hoàn thành chỉ tiêu quý IV"]}
    assert error_code(post(running, path, body, token(people, "member"))) == "forbidden"
    post(running, f"/meetings/{meeting['id']}/start", None, token(people, "secretary"))
    published = post(running, path, body, token(people, "secretary"))
    assert published.status_code == 201, published.text
    assert get(running, path, token(people, "member")).json()["resolutions"] == body["resolutions"]
    assert get(running, path, token(people, "outsider")).status_code == 404


def test_rescheduling_and_cancelling_are_for_the_secretary_and_follow_the_rules(running, people):
    later = schedule(running, people, starts_in=timedelta(days=3))
    path = f"/meetings/{later['id']}"
    assert error_code(patch(running, path, {"title": "Đổi"}, token(people, "member"))) == "forbidden"
    moved = patch(
        running,
        path,
        {"starts_at": at(timedelta(days=4)), "ends_at": at(timedelta(days=4, hours=1))},
        token(people, "secretary"),
    )
    assert moved.status_code == 200, moved.text
    refused = post(running, f"{path}/cancel", {}, token(people, "secretary"))
    assert refused.status_code == 400
    cancelled = post(running, f"{path}/cancel", {"reason": "Trùng lịch"}, token(people, "secretary")).json()
    assert cancelled["status"] == "cancelled"
    wait_for(lambda: get(running, path, token(people, "member")).json()["status"] == "cancelled")


def test_a_members_meetings_data_is_in_their_export_and_erased_on_request(running, people, meeting):
    factory = people["factory"]
    leaving = known_to_meetings(running, factory.member(people["branch"], activated=True))
    upcoming = schedule(running, people, starts_in=timedelta(days=5))
    path = f"/meetings/{upcoming['id']}"
    assert post(running, f"{path}/rsvp", {"response": "absent", "reason": "Điều trị bệnh"}, leaving["token"]).ok
    assert post(running, f"{path}/opinions", {"body": "Ý kiến riêng"}, leaving["token"]).status_code == 201
    exported = get(running, "/me/export", leaving["token"]).json()["services"]["meetings"]
    assert [i["rsvp"]["reason"] for i in exported["invitations"] if i["meeting_id"] == upcoming["id"]] == [
        "Điều trị bệnh"
    ]
    assert [o["body"] for o in exported["opinions"]] == ["Ý kiến riêng"]

    reason = "Đơn đề nghị xoá dữ liệu số 7/2026 / Erasure request no. 7/2026"
    erased = post(running, f"/members/{leaving['id']}/erasure", {"reason": reason}, factory.admin)
    assert erased.status_code == 200, erased.text
    with _tables(running) as db:
        assert db.execute(
            "SELECT count(*) FROM directory_members WHERE member_id = ?", (leaving["id"],)
        ).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM invitees WHERE member_id = ?", (leaving["id"],)).fetchone() == (0,)
        assert db.execute("SELECT body FROM opinions WHERE member_id = ?", (leaving["id"],)).fetchall() == [
            ("Đã xoá / Erased",)
        ]
        assert db.execute("SELECT reason FROM erasures WHERE member_id = ?", (leaving["id"],)).fetchall() == [(reason,)]


def test_once_closed_the_meeting_counts_in_each_members_attendance(running, people, meeting):
    assert post(running, f"/meetings/{meeting['id']}/close", None, token(people, "member")).status_code == 403
    closed = post(running, f"/meetings/{meeting['id']}/close", None, token(people, "secretary"))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    mine = get(running, "/me/attendance", token(people, "member")).json()
    assert [(i["meeting_id"], i["attended"]) for i in mine["items"]] == [(meeting["id"], True)]
    excused = get(running, "/me/attendance", token(people, "probationary")).json()
    assert (excused["missed"], excused["excused"]) == (1, 1)
    late = post(running, f"/meetings/{meeting['id']}/check-in", {"code": "123456"}, token(people, "probationary"))
    assert late.status_code == 409 and error_code(late) == "check_in_closed"


def test_absences_are_for_the_officers_to_see(running, people):
    path = f"/organizations/{people['branch']['id']}/absentees"
    answer = get(running, path, token(people, "secretary"))
    assert answer.status_code == 200 and answer.json()["threshold"] == 3
    assert get(running, path, token(people, "member")).status_code == 404


def test_a_member_imported_into_the_branch_is_invited_to_its_coming_meetings(running, people):
    upcoming = schedule(running, people, starts_in=timedelta(days=6))
    csv = (
        "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
        f"organization_code,status\n001088000912,Lý Thị Nhập,1990-09-09,Nữ,,,,2015-01-01,2016-01-01,"
        f"{people['branch']['code']},chính thức\n"
    )
    admin = people["factory"].admin
    started = requests.post(
        f"{running.base}/imports", data=csv.encode(), headers={**bearer(admin), "Content-Type": "text/csv"}, timeout=20
    )
    assert started.status_code == 202, started.text
    wait_for(
        lambda: get(running, f"/imports/{started.json()['id']}", admin).json()["status"] == "completed",
        timeout=30,
        message="the import",
    )
    invited = wait_for(
        lambda: (
            get(running, f"/meetings/{upcoming['id']}", token(people, "secretary")).json()["invited"]
            > upcoming["invited"]
            and get(running, f"/meetings/{upcoming['id']}", token(people, "secretary")).json()
        ),
        timeout=30,
        message="meetings to read the imported member",
    )
    assert invited["invited"] == upcoming["invited"] + 1
