"""A member's data across services: they download all of it; an administrator erases it on request, and afterwards
nothing personal of them is readable anywhere (issue 10 item 10)."""

import os
import sqlite3

import pytest
import requests

from tests.e2e.conftest import GOOD_PASSWORD, bearer, error_code, login, post
from tests.e2e.people import get, new_member, staff_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

REASON = "Đơn đề nghị xoá dữ liệu số 12/2026 / Erasure request no. 12/2026"


def rows(running, service, sql, *args):
    with sqlite3.connect(os.path.join(running.data_dir, f"{service}.db")) as db:
        return db.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def staff(running):
    return staff_of(running)


def test_a_member_downloads_what_every_service_keeps_about_them(running, staff):
    member = new_member(running, staff)
    token = member["tokens"]["access_token"]
    wait_for(lambda: get(running, "/me/notifications", token).json()["items"], message="the welcome in the inbox")
    answer = get(running, "/me/export", token)
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == f'attachment; filename="sotay-{member["id"]}.json"'
    assert answer.headers["Cache-Control"] == "no-store"
    exported = answer.json()["services"]
    assert exported["members"]["record"]["citizen_id"] == member["citizen_id"]
    assert exported["members"]["record"]["email"] == member["email"]
    assert exported["identity"]["account"]["verified_phone"] == member["phone"]
    assert [s["current"] for s in exported["identity"]["sessions"]] == [True]
    assert exported["notify"]["contact"]["phone"] == member["phone"]
    assert exported["notify"]["inbox"][0]["category"] == "security"
    assert get(running, "/me/export", None).status_code == 401


def test_an_erasure_needs_an_administrator_and_a_reason(running, staff):
    member = new_member(running, staff, activated=False)
    path = f"/members/{member['id']}/erasure"
    assert error_code(post(running, path, {}, staff["admin"])) == "validation_error"
    assert post(running, path, {"reason": REASON}, staff["secretary"]).status_code == 403
    assert post(running, path, {"reason": REASON}).status_code == 401
    me = get(running, "/me", staff["admin"]).json()["id"]
    assert post(running, f"/members/{me}/erasure", {"reason": REASON}, staff["admin"]).status_code == 403


def test_after_an_erasure_nothing_personal_of_the_member_is_readable_anywhere(running, staff):
    member = new_member(running, staff)
    token, citizen_id, phone = member["tokens"]["access_token"], member["citizen_id"], member["phone"]
    requests.post(
        f"{running.base}/me/devices",
        json={"platform": "android", "token": "fcm-token-of-the-member"},
        headers=bearer(token),
        timeout=15,
    )
    admin = staff["admin"]
    erased = post(running, f"/members/{member['id']}/erasure", {"reason": REASON}, admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"]["identity"]["account"] == 1
    assert citizen_id not in erased.text and phone not in erased.text  # counts, never the data

    # no service's database holds them any more (the directories follow members' event)
    wait_for(
        lambda: (
            rows(running, "identity", "SELECT 1 FROM directory_erased WHERE member_id = ?", member["id"])
            and rows(running, "notify", "SELECT 1 FROM directory_erased WHERE member_id = ?", member["id"])
        ),
        message="the erasure to reach every directory",
    )
    assert rows(
        running, "members", "SELECT count(*) FROM members WHERE citizen_id = ? OR phone = ?", citizen_id, phone
    ) == [(0,)]
    assert rows(
        running,
        "members",
        "SELECT count(*) FROM audit_log WHERE subject_type = 'member' AND subject_id = ? "
        "AND action != 'member.erased' AND (before IS NOT NULL OR after IS NOT NULL)",
        member["id"],
    ) == [(0,)]
    assert rows(running, "identity", "SELECT count(*) FROM accounts WHERE citizen_id = ?", citizen_id) == [(0,)]
    assert rows(running, "identity", "SELECT count(*) FROM directory_members WHERE member_id = ?", member["id"]) == [
        (0,)
    ]
    assert rows(
        running,
        "identity",
        "SELECT count(*) FROM audit_events WHERE action != 'erasure' AND "
        "(citizen_id = ? OR (member_id = ? AND client_address IS NOT NULL))",
        citizen_id,
        member["id"],
    ) == [(0,)]
    assert rows(
        running,
        "notify",
        "SELECT count(*) FROM directory_members WHERE member_id = ? OR phone = ?",
        member["id"],
        phone,
    ) == [(0,)]
    assert rows(
        running, "notify", "SELECT count(*) FROM deliveries WHERE member_id = ? OR destination = ?", member["id"], phone
    ) == [(0,)]
    assert rows(running, "notify", "SELECT count(*) FROM devices WHERE member_id = ?", member["id"]) == [(0,)]

    # they cannot sign in, and the tokens they held are refused everywhere
    assert login(running.base, citizen_id, GOOD_PASSWORD).status_code == 401
    wait_for(lambda: get(running, "/me/notifications", token).status_code == 401, message="their session to end")
    # search does not find them; what members keeps is a tombstone
    for q in (citizen_id, "Đảng viên Thử"):
        found = requests.get(
            f"{running.base}/organizations/1/members", params={"q": q}, headers=bearer(admin), timeout=15
        ).json()["items"]
        assert member["id"] not in [m["id"] for m in found]
    tombstone = get(running, f"/members/{member['id']}", admin).json()
    assert (tombstone["full_name"], tombstone["phone"], tombstone["date_of_birth"]) == ("Đã xoá / Erased", None, None)
    assert tombstone["citizen_id"] != citizen_id

    # each service recorded who asked and why
    admin_id = get(running, "/me", admin).json()["id"]
    assert rows(
        running,
        "members",
        "SELECT actor_member_id, note FROM audit_log WHERE action = 'member.erased' AND subject_id = ?",
        member["id"],
    ) == [(admin_id, REASON)]
    assert rows(running, "notify", "SELECT requested_by, reason FROM erasures WHERE member_id = ?", member["id"]) == [
        (admin_id, REASON)
    ]
    assert (
        len(
            rows(
                running,
                "identity",
                "SELECT 1 FROM audit_events WHERE action = 'erasure' AND member_id = ?",
                member["id"],
            )
        )
        == 1
    )
    # asked again: nothing left to erase, the same answer
    again = post(running, f"/members/{member['id']}/erasure", {"reason": REASON}, admin)
    assert (again.status_code, again.json()["erased"]) == (200, {})
    # the next member's code still reaches them: an erased message's id (channels drop repeats by it) is never reused
    assert new_member(running, staff)["tokens"]["access_token"]
