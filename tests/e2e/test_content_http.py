"""Documents over HTTP, with every service up: they reach exactly their audience (others 404), officers publish
inside their own subtree (403 outside), a transferred member sees the new branch's documents at once, a script in
a body never comes back, bad input is a 400 with details; reading, search, the notebook, export and erasure."""

import os
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e.conftest import bearer, error_code, post
from tests.e2e.people import Factory, get, patch, put
from tests.support import samples
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def _content(running, query, *args):
    with sqlite3.connect(os.path.join(running.data_dir, "content.db")) as db:
        return db.execute(query, args).fetchone()


def known_to_content(running, member, organization_id=None):
    """Wait until content's directory has the member (in `organization_id` when given) and their positions."""
    organization_id = organization_id or member["organization_id"]
    wait_for(
        lambda: _content(
            running,
            "SELECT 1 FROM directory_members WHERE member_id = ? AND organization_id = ?",
            member["id"],
            organization_id,
        ),
        message="content to know the member",
    )
    return member


def holds_position_in_content(running, member, organization):
    wait_for(
        lambda: _content(
            running,
            "SELECT 1 FROM directory_positions WHERE member_id = ? AND organization_id = ?",
            member["id"],
            organization["id"],
        ),
        message="content to know the position",
    )
    return member


def delete(running, path, token):
    return requests.delete(f"{running.base}{path}", headers=bearer(token), timeout=15)


@pytest.fixture(scope="module")
def world(running):
    """A grassroots committee with two branches; a secretary and a member in one, a member in the other."""
    factory = Factory(running)
    grassroots = factory.organization(factory.province()["id"])
    branch, sibling = factory.organization(grassroots["id"]), factory.organization(grassroots["id"])
    secretary = factory.officer(branch)
    member = factory.member(branch, activated=True)
    neighbour = factory.member(sibling, activated=True)
    for person in (secretary, member, neighbour):
        known_to_content(running, person)
    holds_position_in_content(running, secretary, branch)
    return {
        "factory": factory,
        "grassroots": grassroots,
        "branch": branch,
        "sibling": sibling,
        "secretary": secretary,
        "member": member,
        "neighbour": neighbour,
    }


def document(world, running, audience=None, **fields):
    body = {
        "category": "resolution",
        "title": "Nghị quyết Đại hội chi bộ",
        "body": "Toàn văn **nghị quyết**.",
        "audience": [(audience or world["branch"])["id"]],
        **fields,
    }
    answer = post(running, "/documents", body, world["secretary"]["token"])
    assert answer.status_code == 201, answer.text
    return answer.json()


def published(world, running, **fields):
    draft = document(world, running, **fields)
    answer = post(running, f"/documents/{draft['id']}/publish", None, world["secretary"]["token"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def ids(running, token, query=""):
    answer = get(running, f"/documents{query}", token)
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_a_document_reaches_its_audience_and_is_404_for_everyone_else(world, running):
    draft = document(world, running, title="Chỉ cho chi bộ")
    assert draft["status"] == "draft" and draft["audience"] == [world["branch"]["id"]]
    member, neighbour = world["member"]["token"], world["neighbour"]["token"]
    assert get(running, f"/documents/{draft['id']}", member).status_code == 404  # a draft is not theirs yet
    post(running, f"/documents/{draft['id']}/publish", None, world["secretary"]["token"])
    assert draft["id"] in ids(running, member)
    seen = get(running, f"/documents/{draft['id']}", member)
    assert seen.status_code == 200 and seen.json()["status"] == "published" and seen.json()["read"] is False
    assert draft["id"] not in ids(running, neighbour)
    hidden = get(running, f"/documents/{draft['id']}", neighbour)
    assert hidden.status_code == 404 and error_code(hidden) == "not_found"
    assert post(running, f"/documents/{draft['id']}/read", None, neighbour).status_code == 404
    assert put(running, f"/documents/{draft['id']}/bookmark", None, neighbour).status_code == 404
    assert get(running, "/documents/999999999", member).status_code == 404


def test_a_secretary_cannot_publish_outside_her_subtree(world, running):
    secretary = world["secretary"]["token"]
    for audience in ([world["sibling"]["id"]], [world["branch"]["id"], world["grassroots"]["id"]]):
        answer = post(
            running, "/documents", {"category": "news", "title": "T", "body": "B", "audience": audience}, secretary
        )
        assert answer.status_code == 403 and error_code(answer) == "forbidden", answer.text
    as_member = post(
        running,
        "/documents",
        {"category": "news", "title": "T", "body": "B", "audience": [world["branch"]["id"]]},
        world["member"]["token"],
    )
    assert as_member.status_code == 403
    mine = published(world, running)
    assert post(running, f"/documents/{mine['id']}/withdraw", None, world["member"]["token"]).status_code == 403
    assert post(running, f"/documents/{mine['id']}/withdraw", None, world["neighbour"]["token"]).status_code == 404
    by_admin = post(
        running,
        "/documents",
        {"category": "news", "title": "Toàn tỉnh", "body": "B", "audience": [world["sibling"]["id"]]},
        world["factory"].admin,
    )
    assert by_admin.status_code == 201, by_admin.text


def test_a_transferred_member_sees_the_new_branchs_documents_at_once(world, running):
    factory = world["factory"]
    mover = known_to_content(running, factory.member(world["branch"], activated=True))
    for_sibling = post(
        running,
        "/documents",
        {"category": "directive", "title": "Chỉ thị của chi bộ bên", "body": "…", "audience": [world["sibling"]["id"]]},
        factory.admin,
    )
    post(running, f"/documents/{for_sibling.json()['id']}/publish", None, factory.admin)
    assert for_sibling.json()["id"] not in ids(running, mover["token"])
    issued = post(
        running,
        f"/members/{mover['id']}/transfers",
        {"to_organization_id": world["sibling"]["id"]},
        world["secretary"]["token"],
    )
    assert issued.status_code == 201, issued.text
    assert post(running, f"/transfers/{issued.json()['id']}/accept", None, factory.admin).status_code == 200
    known_to_content(running, mover, world["sibling"]["id"])
    assert for_sibling.json()["id"] in ids(running, mover["token"])


def test_a_script_in_a_body_never_comes_back(world, running):
    attack = (
        '<script>alert(1)</script>\n\n<p onclick="alert(2)">bấm</p> <a href="javascript:alert(3)">x</a>'
        " <img src=x onerror=alert(4)> [y](javascript:alert(5))"
    )
    created = published(world, running, body=attack)
    for token in (world["member"]["token"], world["secretary"]["token"]):
        body = get(running, f"/documents/{created['id']}", token).json()["body"].lower()
        assert "<script" not in body and "onclick" not in body and "onerror" not in body
        assert 'href="javascript' not in body and "<img" not in body and "bấm" in body


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "T", "body": "B", "audience": [1]}, "category"),
        ({"category": "gossip", "title": "T", "body": "B", "audience": [1]}, "category"),
        ({"category": "news", "title": "", "body": "B", "audience": [1]}, "title"),
        ({"category": "news", "title": "T", "body": "B", "audience": []}, "audience"),
        ({"category": "news", "title": "T", "body": "B", "audience": [2**70]}, "audience"),
        ({"category": "news", "title": "T", "body": "B", "audience": [1, 1]}, "audience"),
        ({"category": "news", "title": "T", "body": "B", "audience": [1], "publish_at": "tomorrow"}, "publish_at"),
        (
            {"category": "news", "title": "T", "body": "B", "audience": [1], "publish_at": "2030-01-01T00:00:00"},
            "publish_at",
        ),
        ({"category": "news", "title": "T", "body": "B", "audience": [1], "study": "yes"}, "study"),
        ({"category": "news", "title": "T", "body": "B", "audience": [1], "extra": 1}, "extra"),
        ({"category": "news", "title": "T", "body": "B", "audience": [987654321]}, "audience"),
    ],
)
def test_bad_input_is_a_400_with_details(world, running, body, field):
    answer = post(running, "/documents", body, world["secretary"]["token"])
    assert answer.status_code == 400 and error_code(answer) == "validation_error", answer.text
    assert field in answer.json()["error"]["details"]


def test_bad_queries_are_400_never_500(world, running):
    token = world["member"]["token"]
    for query in ("?cursor=not-a-cursor", "?limit=0", "?category=gossip", "?unread=maybe", "?status=lost"):
        answer = get(running, f"/documents{query}", token)
        assert answer.status_code == 400 and error_code(answer) == "validation_error", (query, answer.text)
    assert get(running, "/documents?status=draft", token).status_code == 403  # officers only


def test_editing_a_published_document_makes_a_new_version_the_earlier_readable_by_officers(world, running):
    created = published(world, running, body="Bản thứ nhất")
    secretary, member = world["secretary"]["token"], world["member"]["token"]
    changed = patch(running, f"/documents/{created['id']}", {"body": "Bản thứ hai"}, secretary)
    assert changed.status_code == 200 and changed.json()["version"] == 2, changed.text
    assert "Bản thứ hai" in get(running, f"/documents/{created['id']}", member).json()["body"]
    earlier = get(running, f"/documents/{created['id']}?version=1", secretary)
    assert earlier.status_code == 200 and "Bản thứ nhất" in earlier.json()["body"]
    assert get(running, f"/documents/{created['id']}?version=1", member).status_code == 404
    assert post(running, f"/documents/{created['id']}/withdraw", None, secretary).json()["status"] == "withdrawn"
    assert get(running, f"/documents/{created['id']}", member).status_code == 404
    again = post(running, f"/documents/{created['id']}/publish", None, secretary)
    assert again.status_code == 409 and error_code(again) == "document_state"


def test_drafts_and_scheduled_documents_are_listed_for_officers_and_published_when_due(world, running):
    secretary, member = world["secretary"]["token"], world["member"]["token"]
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    scheduled = document(world, running, title="Hẹn giờ đăng", publish_at=soon)
    assert scheduled["status"] == "scheduled"
    assert scheduled["id"] in ids(running, secretary, "?status=scheduled")
    wait_for(lambda: scheduled["id"] in ids(running, member), timeout=20, message="the scheduler to publish it")
    assert get(running, f"/documents/{scheduled['id']}", member).json()["published_at"]


def test_reading_bookmarks_unread_count_and_search(world, running):
    factory = world["factory"]
    reader = known_to_content(running, factory.member(world["branch"], activated=True))
    token = reader["token"]
    found = published(world, running, title="Nghị quyết Đại hội đại biểu lần thứ XIV", body="Văn kiện")
    other = published(world, running, title="Lịch sinh hoạt tháng", body="Họp chi bộ")
    unread = get(running, "/me/documents/unread-count", token).json()["unread"]
    assert unread >= 2
    for _ in range(2):  # idempotent
        marked = post(running, f"/documents/{found['id']}/read", None, token)
        assert marked.status_code == 200 and marked.json()["read"] is True
    assert get(running, "/me/documents/unread-count", token).json()["unread"] == unread - 1
    assert found["id"] not in ids(running, token, "?unread=true") and other["id"] in ids(running, token, "?unread=true")
    assert put(running, f"/documents/{other['id']}/bookmark", None, token).json()["bookmarked"] is True
    assert ids(running, token, "?bookmarked=true") == [other["id"]]
    assert delete(running, f"/documents/{other['id']}/bookmark", token).json()["bookmarked"] is False
    assert ids(running, token, "?bookmarked=true") == []
    assert ids(running, token, "?q=nghi%20quyet%20dai%20hoi")[0] == found["id"]
    assert ids(running, token, "?q=NGH%E1%BB%8A%20QUY%E1%BA%BET%20%C4%90%E1%BA%A0I")[0] == found["id"]
    assert other["id"] not in ids(running, token, "?q=nghi%20quyet%20dai%20hoi")
    assert ids(running, world["neighbour"]["token"], "?q=nghi%20quyet%20dai%20hoi") == []


def test_notes_are_their_owners_alone_exported_to_them_and_erased_on_request(world, running):
    factory = world["factory"]
    owner = known_to_content(running, factory.member(world["branch"], activated=True))
    created = post(
        running, "/me/notes", {"title": "Ý kiến phát biểu", "body": "Nội dung", "meeting_id": 3}, owner["token"]
    )
    assert created.status_code == 201, created.text
    note = created.json()
    path = f"/me/notes/{note['id']}"
    for stranger in (world["secretary"]["token"], factory.admin):
        assert get(running, path, stranger).status_code == 404
        assert patch(running, path, {"title": "x"}, stranger).status_code == 404
        assert delete(running, path, stranger).status_code == 404
    assert patch(running, path, {"body": "Sửa lại"}, owner["token"]).json()["body"] == "Sửa lại"
    assert [n["id"] for n in get(running, "/me/notes", owner["token"]).json()["items"]] == [note["id"]]
    exported = get(running, "/me/export", owner["token"]).json()["services"]["content"]
    assert [n["title"] for n in exported["notes"]] == ["Ý kiến phát biểu"]
    erased = post(
        running, f"/members/{owner['id']}/erasure", {"reason": "Đơn đề nghị số 7/2026 / Request no. 7"}, factory.admin
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["content"]["notes"] == 1
    assert _content(running, "SELECT count(*) FROM notes WHERE member_id = ?", owner["id"]) == (0,)


def stored_blobs(running):
    root = os.path.join(running.data_dir, "blobs")
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


def upload(running, document_id, data, name, token):
    return requests.post(
        f"{running.base}/documents/{document_id}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        headers=bearer(token),
        timeout=30,
    )


def test_attachments_reach_the_audience_alone_resume_and_refused_files_leave_nothing(world, running):
    created = published(world, running, title="Có tệp đính kèm")
    secretary, member, neighbour = (world[k]["token"] for k in ("secretary", "member", "neighbour"))
    data = samples.pdf(300_000)
    added = upload(running, created["id"], data, "Nghị quyết số 1.pdf", secretary)
    assert added.status_code == 201, added.text
    assert added.json() == {"n": 1, "name": "Nghị quyết số 1.pdf", "content_type": "application/pdf", "size": len(data)}
    assert get(running, f"/documents/{created['id']}", member).json()["attachments"] == [added.json()]

    path = f"/documents/{created['id']}/attachments/1"
    whole = get(running, path, member)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Content-Type"] == "application/pdf" and "attachment;" in whole.headers["Content-Disposition"]
    resumed = requests.get(f"{running.base}{path}", headers={**bearer(member), "Range": "bytes=1000-"}, timeout=15)
    assert resumed.status_code == 206 and resumed.content == data[1000:]
    again = requests.get(
        f"{running.base}{path}", headers={**bearer(member), "If-None-Match": whole.headers["ETag"]}, timeout=15
    )
    assert again.status_code == 304

    for stranger in (neighbour,):
        assert get(running, path, stranger).status_code == 404
    assert get(running, f"/documents/{created['id']}/attachments/2", member).status_code == 404

    before = stored_blobs(running)
    assert upload(running, created["id"], samples.pdf(), "x.pdf", member).status_code == 403  # a reader
    assert upload(running, created["id"], samples.pdf(), "x.pdf", neighbour).status_code == 404  # a stranger
    disguised = upload(running, created["id"], samples.exe(), "nghi-quyet.pdf", secretary)
    assert disguised.status_code == 415, disguised.text
    assert stored_blobs(running) == before


def test_a_quizs_answers_never_reach_a_member_attempts_are_scored_and_limited(world, running):
    lesson = published(world, running, category="study", study=True, title="Học tập Nghị quyết")
    secretary, member = world["secretary"]["token"], world["member"]["token"]
    quiz = {
        "questions": [
            {"text": "Đại hội lần thứ mấy?", "options": ["XIII", "XIV"], "correct": [1]},
            {"text": "Nguyên tắc?", "options": ["Tập trung dân chủ", "Tự phê bình", "Tuỳ ý"], "correct": [0, 1]},
        ],
        "pass_mark": 0.5,
        "max_attempts": 1,
    }
    path = f"/documents/{lesson['id']}/quiz"
    assert put(running, path, quiz, member).status_code == 403
    set_ = put(running, path, quiz, secretary)
    assert set_.status_code == 200 and set_.json()["questions"][0]["correct"] == [1], set_.text
    seen = get(running, path, member)
    assert seen.status_code == 200 and "correct" not in seen.text, seen.text
    # one right option or several: what the member needs to answer, not which ones are right
    assert [question["multiple"] for question in seen.json()["questions"]] == [False, True]
    assert get(running, path, world["neighbour"]["token"]).status_code == 404
    bad = post(running, f"{path}/attempts", {"answers": [[1]]}, member)
    assert bad.status_code == 400 and error_code(bad) == "validation_error"
    result = post(running, f"{path}/attempts", {"answers": [[1], [1]]}, member)
    assert result.json() == {"score": 0.5, "passed": True, "best_score": 0.5, "attempts_left": 0}, result.text
    again = post(running, f"{path}/attempts", {"answers": [[1], [0]]}, member)
    assert again.status_code == 409 and error_code(again) == "attempts_exhausted"
    (item,) = [i for i in get(running, "/me/study", member).json()["items"] if i["document_id"] == lesson["id"]]
    assert item["passed"] is True and item["attempts"] == 1


def test_members_imported_in_bulk_reach_contents_directory_through_members_bulk_read(world, running):
    admin = world["factory"].admin
    csv = (
        "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
        f"organization_code,status\n001799000001,Lý Văn Nhập,1988-08-08,Nam,,,,2012-01-01,2013-01-01,"
        f"{world['branch']['code']},chính thức\n"
    )
    started = requests.post(
        f"{running.base}/imports",
        data=csv.encode(),
        timeout=20,
        headers={**bearer(admin), "Content-Type": "text/csv"},
    )
    assert started.status_code == 202, started.text
    wait_for(
        lambda: get(running, f"/imports/{started.json()['id']}", admin).json()["status"] == "completed",
        timeout=30,
        message="the import",
    )
    (imported,) = get(running, f"/organizations/{world['branch']['id']}/members?q=001799000001", admin).json()["items"]
    known_to_content(running, imported, world["branch"]["id"])  # read back through members' bulk read
