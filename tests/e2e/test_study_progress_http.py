"""A committee's study progress over HTTP, every service up: a grassroots committee's secretary sees, for a study
document, how many members each branch it reaches holds, how many read it and passed its quiz, as rates 0–1 and as
XLSX; a member who moves takes their reading along; a plain member, an unknown document or one none of its members
see get 404; a missing or malformed document id is 400."""

import io

import pytest
import requests
from openpyxl import load_workbook

from services.gateway.reports import XLSX
from tests.e2e.conftest import bearer, error_code, post
from tests.e2e.people import Factory, get, put
from tests.e2e.test_content_http import holds_position_in_content, known_to_content
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

QUIZ = {
    "questions": [{"text": "Đại hội lần thứ mấy?", "options": ["XIII", "XIV"], "correct": [1]}],
    "pass_mark": 1.0,
    "max_attempts": 3,
}


def test_a_committee_sees_each_branchs_study_progress_and_downloads_it(running):
    factory = Factory(running)
    grassroots = factory.organization(factory.province()["id"], name="Đảng bộ xã Mỹ Tân")
    ahead = factory.organization(grassroots["id"], name="Chi bộ ấp 1")
    behind = factory.organization(grassroots["id"], name="Chi bộ ấp 2")
    secretary = factory.officer(grassroots, member_of=ahead)
    readers = [factory.member(ahead, activated=True) for _ in range(2)]
    idle = factory.member(behind, activated=True)
    for person in (secretary, *readers, idle):
        known_to_content(running, person)
    holds_position_in_content(running, secretary, grassroots)
    token = secretary["token"]

    draft = post(
        running,
        "/documents",
        {
            "category": "study",
            "study": True,
            "title": "Học tập Nghị quyết",
            "body": "Nội dung.",
            "audience": [grassroots["id"]],
        },
        token,
    )
    assert draft.status_code == 201, draft.text
    lesson = draft.json()["id"]
    assert post(running, f"/documents/{lesson}/publish", None, token).status_code == 200
    assert put(running, f"/documents/{lesson}/quiz", QUIZ, token).status_code == 200
    for reader in readers:
        assert post(running, f"/documents/{lesson}/read", None, reader["token"]).status_code == 200
    assert post(running, f"/documents/{lesson}/quiz/attempts", {"answers": [[1]]}, readers[0]["token"]).json()["passed"]
    path = f"/organizations/{grassroots['id']}/study-progress?document_id={lesson}"

    answer = get(running, path, token)
    assert answer.status_code == 200, answer.text
    table = answer.json()
    assert (table["organization_id"], table["document_id"]) == (grassroots["id"], lesson)
    assert (table["audience"], table["read"], table["passed"], table["rate"]) == (4, 2, 1, 0.5)
    assert table["children"] == [
        {"organization_id": ahead["id"], "name": ahead["name"], "audience": 3, "read": 2, "rate": 0.6667,
         "passed": 1, "passed_rate": 0.3333},
        {"organization_id": behind["id"], "name": behind["name"], "audience": 1, "read": 0, "rate": 0.0,
         "passed": 0, "passed_rate": 0.0},
    ]  # fmt: skip

    download = requests.get(f"{running.base}{path}&format=xlsx", headers=bearer(token), timeout=15)
    assert download.status_code == 200 and download.headers["Content-Type"] == XLSX
    expected = f'attachment; filename="study-progress-{grassroots["id"]}-{lesson}.xlsx"'
    assert download.headers["Content-Disposition"] == expected
    rows = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(download.content)).active.iter_rows()]
    assert grassroots["name"] in rows[0][0]
    assert rows[-1] == ["Cộng / Total", 4, 2, 0.5, 1, 0.25]

    # a transfer takes the member's reading to their new branch (members' event, then the running totals)
    issued = post(running, f"/members/{readers[1]['id']}/transfers", {"to_organization_id": behind["id"]}, token)
    assert issued.status_code == 201, issued.text
    assert post(running, f"/transfers/{issued.json()['id']}/accept", None, factory.admin).status_code == 200
    wait_for(lambda: get(running, path, token).json()["children"][1]["read"] == 1, message="the reading to move along")

    assert get(running, path, readers[0]["token"]).status_code == 404  # a plain member
    assert get(running, f"/organizations/{ahead['id']}/study-progress?document_id=999999", token).status_code == 404
    elsewhere = factory.organization(factory.province()["id"])
    other = post(
        running, "/documents", {"category": "news", "title": "Tin", "body": "Tin.", "audience": [ahead["id"]]}, token
    ).json()["id"]
    assert post(running, f"/documents/{other}/publish", None, token).status_code == 200
    assert get(running, f"/organizations/{behind['id']}/study-progress?document_id={other}", token).status_code == 404
    assert get(running, f"/organizations/{elsewhere['id']}/study-progress?document_id={lesson}", token).status_code == (
        404
    )
    for bad in ("", "?document_id=abc", "?document_id=0"):
        refused = get(running, f"/organizations/{grassroots['id']}/study-progress{bad}", token)
        assert refused.status_code == 400 and error_code(refused) == "validation_error", refused.text
