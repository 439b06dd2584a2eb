"""The party member database over HTTP: who may see and change what, search, figures,
self-service, transfers, the digital file, imports."""

import pytest
import requests

from tests.e2e.conftest import activate, bearer, error_code, login
from tests.e2e.people import known_to_identity
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def call(running, method, path, token, headers=None, **kwargs):
    return requests.request(method, f"{running.base}{path}", headers={**bearer(token), **(headers or {})},
                            timeout=20, **kwargs)


@pytest.fixture(scope="module")
def world(running):
    """Tokens of the demo roles and the organisations around the demo branch."""
    tokens = {who: login(running.base, cid).json()["access_token"] for who, cid in
              (("admin", "001000000000"), ("secretary", "001000000001"), ("member", "001000000002"))}
    me = call(running, "GET", "/me", tokens["member"]).json()
    branch = call(running, "GET", f"/organizations/{me['organization_id']}", tokens["admin"]).json()
    parent = call(running, "GET", f"/organizations/{branch['parent_id']}", tokens["admin"]).json()
    siblings = call(running, "GET", f"/organizations/{parent['id']}/children", tokens["admin"]).json()["items"]
    sibling = next(o for o in siblings if o["id"] != branch["id"])
    child = call(running, "POST", f"/organizations/{branch['id']}/children", tokens["secretary"],
                 json={"code": "G001-B1-T1", "name": "Tổ đảng số 1"})
    assert child.status_code == 201, child.text
    members = call(running, "GET", f"/organizations/{branch['id']}/members", tokens["secretary"]).json()["items"]
    mate = next(m for m in members if m["citizen_id"] == "001000000003")
    others = call(running, "GET", f"/organizations/{sibling['id']}/members", tokens["admin"]).json()["items"]
    return {"tokens": tokens, "me": me, "orgs": {"own": branch["id"], "sibling": sibling["id"],
                                                  "parent": parent["id"], "child": child.json()["id"]},
            "members": {"self": me["id"], "mate": mate["id"], "sibling": others[0]["id"]}}


# role × organisation → expected status, for each organisation-scoped endpoint
ORG_MATRIX = {
    ("GET", "/organizations/{id}"): {
        "member": {"own": 200, "sibling": 404, "parent": 200, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 200, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200}},
    ("GET", "/organizations/{id}/members"): {
        "member": {"own": 200, "sibling": 404, "parent": 404, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 404, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200}},
    ("GET", "/organizations/{id}/stats"): {
        "member": {"own": 404, "sibling": 404, "parent": 404, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 404, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200}},
    ("PATCH", "/organizations/{id}"): {
        "member": {"own": 404, "sibling": 404, "parent": 404, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 404, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200}},
    ("PUT", "/organizations/{id}/rollout"): {
        "member": {"own": 403, "sibling": 403, "parent": 403, "child": 403},
        "secretary": {"own": 403, "sibling": 403, "parent": 403, "child": 403},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200}},
}
BODIES = {"PATCH": lambda org: {"name": f"Tên {org}"}, "PUT": lambda org: {"state": "pilot"}}


@pytest.mark.parametrize("endpoint", list(ORG_MATRIX), ids=lambda e: f"{e[0]} {e[1]}")
def test_organisation_endpoints_by_role_and_relation(running, world, endpoint):
    method, template = endpoint
    for role, expected in ORG_MATRIX[endpoint].items():
        for relation, status in expected.items():
            org = world["orgs"][relation]
            body = BODIES[method](relation) if method in BODIES else None
            response = call(running, method, template.format(id=org), world["tokens"][role], json=body)
            assert response.status_code == status, (role, relation, response.text)


MEMBER_MATRIX = {
    "member": {"self": 200, "mate": 404, "sibling": 404},
    "secretary": {"self": 200, "mate": 200, "sibling": 404},
    "admin": {"self": 200, "mate": 200, "sibling": 200},
}


@pytest.mark.parametrize("role", list(MEMBER_MATRIX))
def test_member_records_by_role_and_relation(running, world, role):
    for relation, status in MEMBER_MATRIX[role].items():
        target = world["members"][relation]
        assert call(running, "GET", f"/members/{target}", world["tokens"][role]).status_code == status
        # writing: only officers, only in their subtree (a member edits themselves through PATCH /me)
        expected_write = 404 if role == "member" or status == 404 else 200
        patch = call(running, "PATCH", f"/members/{target}", world["tokens"][role], json={"email": "a@b.vn"})
        assert patch.status_code == expected_write, (role, relation, patch.text)
        records = call(running, "GET", f"/members/{target}/records", world["tokens"][role])
        assert records.status_code == status


def test_a_member_sees_names_and_positions_of_their_branch_not_personal_data(running, world):
    page = call(running, "GET", f"/organizations/{world['orgs']['own']}/members", world["tokens"]["member"]).json()
    assert page["items"] and set(page["items"][0]) == {"id", "full_name", "positions"}
    secretary = next(m for m in page["items"] if m["positions"])
    assert secretary["positions"][0]["role"] == "secretary"


def test_name_search_ignores_diacritics_and_pages_with_a_cursor(running, world):
    admin = world["tokens"]["admin"]
    found = call(running, "GET", "/organizations/1/members", admin, params={"q": "le van hung"}).json()["items"]
    assert [m["full_name"] for m in found] == ["Lê Văn Hùng"]
    by_id = call(running, "GET", "/organizations/1/members", admin, params={"q": "001000000002"}).json()["items"]
    assert [m["full_name"] for m in by_id] == ["Lê Văn Hùng"]
    names, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = call(running, "GET", "/organizations/1/members", admin, params=params).json()
        names += [m["full_name"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(names) == len(set(names)) >= 15
    bad = call(running, "GET", "/organizations/1/members", admin, params={"cursor": "garbage"})
    assert bad.status_code == 400 and error_code(bad) == "validation_error"


def test_stats_count_the_subtree_and_uptake_follows_activations(running, world):
    def stats():
        return call(running, "GET", "/organizations/1/stats", world["tokens"]["admin"]).json()

    before = stats()
    assert before["total"] >= 15 and before["in_party"] <= before["total"]
    assert sum(before["by_gender"].values()) == before["in_party"]
    assert sum(before["by_age_band"].values()) == before["in_party"]
    activate(running, "079000000009", "+84980000009")     # reaches members through identity's event
    wait_for(lambda: stats()["uptake"]["activated"] == before["uptake"]["activated"] + 1,
             message="the activation in the uptake figures")


def test_contact_data_changes_at_once_core_data_waits_for_the_secretary(running, world):
    member, secretary = world["tokens"]["member"], world["tokens"]["secretary"]
    changed = call(running, "PATCH", "/me", member, json={"email": "hung@example.vn", "full_name": "Lê Văn Hưng"})
    assert changed.status_code == 200
    assert changed.json()["member"]["full_name"] == "Lê Văn Hùng"        # not yet
    request_id = changed.json()["change_request"]["id"]
    assert call(running, "POST", f"/change-requests/{request_id}/approve", member).status_code == 404
    pending = call(running, "GET", "/change-requests", secretary).json()["items"]
    assert request_id in [r["id"] for r in pending]
    assert call(running, "POST", f"/change-requests/{request_id}/approve", secretary).status_code == 200
    assert call(running, "GET", "/me", member).json()["full_name"] == "Lê Văn Hưng"
    # the member hears the outcome (inbox, and SMS to the phone on record), once
    wait_for(lambda: any(i["title"] == "Yêu cầu sửa hồ sơ đã được duyệt"
                         for i in call(running, "GET", "/me/notifications", member).json()["items"]),
             message="the approval in the member's inbox")
    wait_for(lambda: [m for m in running.sms("+84901000002") if "đã duyệt yêu cầu" in m["text"]],
             message="the approval SMS")
    assert len([m for m in running.sms("+84901000002") if "đã duyệt yêu cầu" in m["text"]]) == 1
    bad = call(running, "PATCH", "/me", member, json={"status": "official"})
    assert bad.status_code == 400


def test_a_transfer_is_issued_by_the_sender_and_accepted_by_the_receiver(running, world):
    secretary, admin = world["tokens"]["secretary"], world["tokens"]["admin"]
    mate = world["members"]["mate"]
    issued = call(running, "POST", f"/members/{mate}/transfers", secretary,
                  json={"to_organization_id": world["orgs"]["sibling"], "kind": "official"})
    assert issued.status_code == 201
    assert issued.json()["id"] not in [t["id"] for t in call(running, "GET", "/transfers/incoming", secretary).json()["items"]]
    assert call(running, "POST", f"/transfers/{issued.json()['id']}/accept", secretary).status_code == 404
    assert call(running, "POST", f"/transfers/{issued.json()['id']}/accept", admin).status_code == 200
    assert call(running, "GET", f"/members/{mate}", admin).json()["organization_id"] == world["orgs"]["sibling"]
    # the member is told at each step, by SMS to the phone on record
    for words in ("Đã lập giấy chuyển", "Tổ chức đảng mới đã tiếp nhận"):
        wait_for(lambda: [m for m in running.sms("+84912345678") if words in m["text"]], message=words)
        assert len([m for m in running.sms("+84912345678") if words in m["text"]]) == 1
    assert call(running, "GET", f"/members/{mate}", secretary).status_code == 404     # no longer theirs


def test_the_digital_file(running, world):
    secretary = world["tokens"]["secretary"]
    target = world["members"]["self"]
    added = call(running, "POST", f"/members/{target}/records", secretary,
                 json={"kind": "reward", "title": "Đảng viên hoàn thành xuất sắc nhiệm vụ 2025", "start_date": "2025-12-31"})
    assert added.status_code == 201
    mine = call(running, "GET", f"/members/{target}/records", world["tokens"]["member"]).json()["items"]
    assert [r["title"] for r in mine] == ["Đảng viên hoàn thành xuất sắc nhiệm vụ 2025"]
    assert call(running, "POST", f"/members/{target}/records", secretary, json={"kind": "gossip", "title": "x"}).status_code == 400


def test_leaving_states_need_a_date(running, world):
    admin = world["tokens"]["admin"]
    target = world["members"]["sibling"]
    missing = call(running, "PATCH", f"/members/{target}", admin, json={"status": "resigned"})
    assert missing.status_code == 400 and "left_on" in missing.json()["error"]["details"]
    done = call(running, "PATCH", f"/members/{target}", admin,
                json={"status": "resigned", "left_on": "2026-10-01", "leaving_reason": "Xin ra khỏi Đảng"})
    assert done.status_code == 200 and done.json()["status"] == "resigned"


def test_an_import_over_http_runs_in_the_background_and_reaches_identity(running, world):
    admin = world["tokens"]["admin"]
    csv = ("citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
           "organization_code,status\n"
           "001088000501,Mai Văn Phúc,1988-08-08,Nam,0912 000 501,,,2012-01-01,2013-01-01,G001-B1,chính thức\n"
           "bad,Sai,,,,,,,,G001-B1,chính thức\n")
    assert call(running, "POST", "/imports", world["tokens"]["secretary"], data=csv.encode(),
                headers={"Content-Type": "text/csv"}).status_code == 403
    started = call(running, "POST", "/imports", admin, data=csv.encode(), headers={"Content-Type": "text/csv"})
    assert started.status_code == 202
    job_id = started.json()["id"]

    def finished():
        job = call(running, "GET", f"/imports/{job_id}", admin).json()
        return job if job["status"] in ("completed", "failed") else None

    job = wait_for(finished, timeout=30, message="the import to finish")
    assert (job["status"], job["accepted"], job["rejected"]) == ("completed", 1, 1)
    assert job["errors"][0]["row"] == 3 and job["errors"][0]["field"] == "citizen_id"
    # identity re-reads imported members in bulk: the new member can activate
    wait_for(lambda: known_to_identity(running, "001088000501"), timeout=30,
             message="identity to know the imported member")
    answer = requests.post(f"{running.base}/auth/activation", json={"citizen_id": "001088000501"}, timeout=10).json()
    assert answer["destination"] == "+849******01"


@pytest.mark.parametrize("role, relation, status", [
    ("member", "own", 400), ("secretary", "own", 201), ("secretary", "sibling", 400), ("admin", "sibling", 201),
])
def test_adding_members_only_within_ones_subtree(running, world, role, relation, status):
    citizen_id = f"0010900{len(role):02d}{len(relation):03d}"
    body = {"citizen_id": citizen_id, "full_name": "Lý Thị Mơ", "status": "probationary",
            "organization_id": world["orgs"][relation], "date_of_birth": "1990-01-01", "admission_date": "2025-01-01"}
    response = call(running, "POST", "/members", world["tokens"][role], json=body)
    assert response.status_code == status, response.text


def test_positions_are_appointed_within_ones_subtree(running, world):
    secretary = world["tokens"]["secretary"]
    mate = world["members"]["self"]
    body = {"organization_id": world["orgs"]["own"], "role": "deputy_secretary"}
    appointed = call(running, "POST", f"/members/{mate}/positions", secretary, json=body)
    assert appointed.status_code == 200 and {"role": "deputy_secretary", "organization_id": world["orgs"]["own"]} \
        in appointed.json()["positions"]
    elsewhere = {"organization_id": world["orgs"]["sibling"], "role": "secretary"}
    assert call(running, "POST", f"/members/{mate}/positions", secretary, json=elsewhere).status_code == 404
    admin_role = {"organization_id": world["orgs"]["own"], "role": "system_administrator"}
    assert call(running, "POST", f"/members/{mate}/positions", secretary, json=admin_role).status_code == 404
    ended = call(running, "DELETE", f"/members/{mate}/positions", secretary, json=body)
    assert ended.status_code == 200 and ended.json()["positions"] == []
    assert call(running, "POST", f"/members/{mate}/positions", world["tokens"]["member"], json=body).status_code == 404
