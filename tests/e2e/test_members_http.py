"""The party member database over HTTP: who may see and change what, search, figures,
self-service, transfers, the digital file, imports."""

import base64
import json

import pytest
import requests

from tests.e2e.conftest import activate, bearer, error_code
from tests.e2e.people import Factory, known_to_identity
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def call(running, method, path, token, headers=None, **kwargs):
    return requests.request(
        method, f"{running.base}{path}", headers={**bearer(token), **(headers or {})}, timeout=20, **kwargs
    )


IMPORT_HEADER = (
    "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,"
    "official_date,organization_code,status\n"
)


def imported(running, admin, csv):
    started = call(
        running, "POST", "/imports", admin, data=(IMPORT_HEADER + csv).encode(), headers={"Content-Type": "text/csv"}
    )
    assert started.status_code == 202, started.text

    def finished():
        job = call(running, "GET", f"/imports/{started.json()['id']}", admin).json()
        return job if job["status"] in ("completed", "failed") else None

    return wait_for(finished, timeout=30, message="the import to finish")


@pytest.fixture(scope="module")
def world(running):
    """A grassroots committee of its own (in a province in pilot) with two branches: in the first, its
    secretary, a system administrator, a member who signed in and a mate who never did, and a party group;
    in the sibling branch, one member."""
    factory = Factory(running)
    parent = factory.organization(factory.province()["id"])
    own, sibling = factory.organization(parent["id"]), factory.organization(parent["id"])
    secretary = factory.officer(
        own, full_name="Nguyễn Thị Lan", date_of_birth="1978-09-02", party_card_number="9301000001"
    )
    admin = factory.member(own, activated=True)
    factory.appoint(admin, {"id": factory.centre}, "system_administrator")
    member = factory.member(own, activated=True, full_name="Lê Văn Hùng", party_card_number="9301000002")
    mate, other = factory.member(own), factory.member(sibling)
    people = {"admin": admin, "secretary": secretary, "member": member}
    child = call(
        running,
        "POST",
        f"/organizations/{own['id']}/children",
        secretary["token"],
        json={"code": f"{own['code']}-T1", "name": "Tổ đảng số 1"},
    )
    assert child.status_code == 201, child.text
    return {
        "factory": factory,
        "tokens": {who: person["token"] for who, person in people.items()},
        "people": {**people, "mate": mate, "other": other},
        "orgs": {"own": own["id"], "sibling": sibling["id"], "parent": parent["id"], "child": child.json()["id"]},
        "codes": {"own": own["code"]},
        "members": {"self": member["id"], "mate": mate["id"], "sibling": other["id"]},
        "ids": {who: person["id"] for who, person in people.items()},
    }


# role × organisation → expected status, for each organisation-scoped endpoint
ORG_MATRIX = {
    ("GET", "/organizations/{id}"): {
        "member": {"own": 200, "sibling": 404, "parent": 200, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 200, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200},
    },
    ("GET", "/organizations/{id}/members"): {
        "member": {"own": 200, "sibling": 404, "parent": 404, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 404, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200},
    },
    ("GET", "/organizations/{id}/stats"): {
        "member": {"own": 404, "sibling": 404, "parent": 404, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 404, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200},
    },
    ("GET", "/organizations/{id}/uptake"): {
        "member": {"own": 404, "sibling": 404, "parent": 404, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 404, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200},
    },
    ("PATCH", "/organizations/{id}"): {
        "member": {"own": 404, "sibling": 404, "parent": 404, "child": 404},
        "secretary": {"own": 200, "sibling": 404, "parent": 404, "child": 200},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200},
    },
    ("PUT", "/organizations/{id}/rollout"): {
        "member": {"own": 403, "sibling": 403, "parent": 403, "child": 403},
        "secretary": {"own": 403, "sibling": 403, "parent": 403, "child": 403},
        "admin": {"own": 200, "sibling": 200, "parent": 200, "child": 200},
    },
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


# role × member → (read, write): officers write in their subtree; nobody writes their own record here (a member
# changes themselves through PATCH /me), not even a secretary or an administrator, who is the only one who
# changes here, and the administrator's record (whose account is the prize) only another administrator
MEMBER_MATRIX = {
    "member": {"self": (200, 403), "mate": (404, 404), "sibling": (404, 404), "administrator": (404, 404)},
    "secretary": {"self": (200, 403), "mate": (200, 200), "sibling": (404, 404), "administrator": (200, 403)},
    "admin": {"self": (200, 403), "mate": (200, 200), "sibling": (200, 200)},
}


@pytest.mark.parametrize("role", list(MEMBER_MATRIX))
def test_member_records_by_role_and_relation(running, world, role):
    for relation, (status, expected_write) in MEMBER_MATRIX[role].items():
        target = {"self": world["ids"][role], "administrator": world["ids"]["admin"]}.get(relation) or world["members"][
            relation
        ]
        assert call(running, "GET", f"/members/{target}", world["tokens"][role]).status_code == status
        patch = call(running, "PATCH", f"/members/{target}", world["tokens"][role], json={"email": "a@b.vn"})
        assert patch.status_code == expected_write, (role, relation, patch.text)
        records = call(running, "GET", f"/members/{target}/records", world["tokens"][role])
        assert records.status_code == status
        added = call(
            running,
            "POST",
            f"/members/{target}/records",
            world["tokens"][role],
            json={"kind": "reward", "title": "Khen thưởng"},
        )
        assert added.status_code == (201 if expected_write == 200 else expected_write), (role, relation, added.text)


def test_a_member_sees_names_and_positions_of_their_branch_not_personal_data(running, world):
    page = call(running, "GET", f"/organizations/{world['orgs']['own']}/members", world["tokens"]["member"]).json()
    assert page["items"] and set(page["items"][0]) == {"id", "full_name", "positions"}
    secretary = next(m for m in page["items"] if m["id"] == world["ids"]["secretary"])
    assert secretary["positions"][0]["role"] == "secretary"


def test_name_search_ignores_diacritics_and_pages_with_a_cursor(running, world):
    admin, committee = world["tokens"]["admin"], f"/organizations/{world['orgs']['parent']}/members"
    found = call(running, "GET", committee, admin, params={"q": "le van hung"}).json()["items"]
    assert [m["full_name"] for m in found] == ["Lê Văn Hùng"]
    citizen_id = world["people"]["member"]["citizen_id"]
    by_id = call(running, "GET", committee, admin, params={"q": citizen_id}).json()["items"]
    assert [m["full_name"] for m in by_id] == ["Lê Văn Hùng"]
    ids, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = call(running, "GET", committee, admin, params=params).json()
        ids += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(ids) == len(set(ids)) >= 5
    bad = call(running, "GET", committee, admin, params={"cursor": "garbage"})
    assert bad.status_code == 400 and error_code(bad) == "validation_error"


def test_stats_count_the_subtree_and_uptake_follows_activations(running, world):
    def stats():
        return call(running, "GET", f"/organizations/{world['orgs']['parent']}/stats", world["tokens"]["admin"]).json()

    newcomer = world["factory"].member({"id": world["orgs"]["sibling"]})
    before = stats()
    assert before["total"] >= 6 and before["in_party"] <= before["total"]
    assert sum(before["by_gender"].values()) == before["in_party"]
    assert sum(before["by_age_band"].values()) == before["in_party"]
    activate(running, newcomer["citizen_id"], newcomer["phone"])  # reaches members through identity's event
    wait_for(
        lambda: stats()["uptake"]["activated"] == before["uptake"]["activated"] + 1,
        message="the activation in the uptake figures",
    )


def test_contact_data_changes_at_once_core_data_waits_for_the_secretary(running, world):
    member, secretary = world["tokens"]["member"], world["tokens"]["secretary"]
    changed = call(running, "PATCH", "/me", member, json={"email": "hung@example.vn", "full_name": "Lê Văn Hưng"})
    assert changed.status_code == 200
    assert changed.json()["member"]["full_name"] == "Lê Văn Hùng"  # not yet
    request_id = changed.json()["change_request"]["id"]
    assert call(running, "POST", f"/change-requests/{request_id}/approve", member).status_code == 403  # own
    pending = call(running, "GET", "/change-requests", secretary).json()["items"]
    assert request_id in [r["id"] for r in pending]
    assert call(running, "POST", f"/change-requests/{request_id}/approve", secretary).status_code == 200
    assert call(running, "GET", "/me", member).json()["full_name"] == "Lê Văn Hưng"
    # the member hears the outcome (inbox, and SMS to the phone on record), once
    wait_for(
        lambda: any(
            i["title"] == "Yêu cầu sửa hồ sơ đã được duyệt"
            for i in call(running, "GET", "/me/notifications", member).json()["items"]
        ),
        message="the approval in the member's inbox",
    )
    phone = world["people"]["member"]["phone"]
    wait_for(lambda: [m for m in running.sms(phone) if "đã duyệt yêu cầu" in m["text"]], message="the approval SMS")
    assert len([m for m in running.sms(phone) if "đã duyệt yêu cầu" in m["text"]]) == 1
    bad = call(running, "PATCH", "/me", member, json={"status": "official"})
    assert bad.status_code == 400


def test_a_transfer_is_issued_by_the_sender_and_accepted_by_the_receiver(running, world):
    secretary, admin = world["tokens"]["secretary"], world["tokens"]["admin"]
    mate = world["members"]["mate"]
    issued = call(
        running,
        "POST",
        f"/members/{mate}/transfers",
        secretary,
        json={"to_organization_id": world["orgs"]["sibling"], "kind": "official"},
    )
    assert issued.status_code == 201
    assert issued.json()["id"] not in [
        t["id"] for t in call(running, "GET", "/transfers/incoming", secretary).json()["items"]
    ]
    assert call(running, "POST", f"/transfers/{issued.json()['id']}/accept", secretary).status_code == 404
    assert call(running, "POST", f"/transfers/{issued.json()['id']}/accept", admin).status_code == 200
    assert call(running, "GET", f"/members/{mate}", admin).json()["organization_id"] == world["orgs"]["sibling"]
    # the member is told at each step, by SMS to the phone on record
    phone = world["people"]["mate"]["phone"]
    for words in ("Đã lập giấy chuyển", "Tổ chức đảng mới đã tiếp nhận"):
        wait_for(lambda words=words: [m for m in running.sms(phone) if words in m["text"]], message=words)
        assert len([m for m in running.sms(phone) if words in m["text"]]) == 1
    assert call(running, "GET", f"/members/{mate}", secretary).status_code == 404  # no longer theirs


def test_the_digital_file(running, world):
    secretary = world["tokens"]["secretary"]
    target = world["members"]["self"]
    added = call(
        running,
        "POST",
        f"/members/{target}/records",
        secretary,
        json={"kind": "reward", "title": "Đảng viên hoàn thành xuất sắc nhiệm vụ 2025", "start_date": "2025-12-31"},
    )
    assert added.status_code == 201
    mine = call(running, "GET", f"/members/{target}/records", world["tokens"]["member"]).json()["items"]
    assert [r["title"] for r in mine] == ["Đảng viên hoàn thành xuất sắc nhiệm vụ 2025"]
    assert (
        call(
            running, "POST", f"/members/{target}/records", secretary, json={"kind": "gossip", "title": "x"}
        ).status_code
        == 400
    )


def test_leaving_states_need_a_date(running, world):
    admin = world["tokens"]["admin"]
    target = world["members"]["sibling"]
    missing = call(running, "PATCH", f"/members/{target}", admin, json={"status": "resigned"})
    assert missing.status_code == 400 and "left_on" in missing.json()["error"]["details"]
    done = call(
        running,
        "PATCH",
        f"/members/{target}",
        admin,
        json={"status": "resigned", "left_on": "2026-10-01", "leaving_reason": "Xin ra khỏi Đảng"},
    )
    assert done.status_code == 200 and done.json()["status"] == "resigned"


def test_an_import_over_http_runs_in_the_background_and_reaches_identity(running, world):
    admin = world["tokens"]["admin"]
    code = world["codes"]["own"]
    csv = (
        IMPORT_HEADER + f"001088000501,Mai Văn Phúc,1988-08-08,Nam,0912 000 501,,,2012-01-01,2013-01-01,{code},"
        f"chính thức\nbad,Sai,,,,,,,,{code},chính thức\n"
    )
    assert (
        call(
            running,
            "POST",
            "/imports",
            world["tokens"]["secretary"],
            data=csv.encode(),
            headers={"Content-Type": "text/csv"},
        ).status_code
        == 403
    )
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
    wait_for(
        lambda: known_to_identity(running, "001088000501"), timeout=30, message="identity to know the imported member"
    )
    answer = requests.post(f"{running.base}/auth/activation", json={"citizen_id": "001088000501"}, timeout=10).json()
    assert answer["destination"] == "+849******01"


@pytest.mark.parametrize(
    "role, relation, status",
    [
        ("member", "own", 400),
        ("secretary", "own", 201),
        ("secretary", "sibling", 400),
        ("admin", "sibling", 201),
    ],
)
def test_adding_members_only_within_ones_subtree(running, world, role, relation, status):
    citizen_id = f"0010900{len(role):02d}{len(relation):03d}"
    body = {
        "citizen_id": citizen_id,
        "full_name": "Lý Thị Mơ",
        "status": "probationary",
        "organization_id": world["orgs"][relation],
        "date_of_birth": "1990-01-01",
        "admission_date": "2025-01-01",
    }
    response = call(running, "POST", "/members", world["tokens"][role], json=body)
    assert response.status_code == status, response.text


def test_positions_are_given_from_the_organisation_above(running, world):
    secretary, member = world["tokens"]["secretary"], world["members"]["self"]
    in_group = {"organization_id": world["orgs"]["child"], "role": "secretary"}  # a party group of her branch
    appointed = call(running, "POST", f"/members/{member}/positions", secretary, json=in_group)
    assert (
        appointed.status_code == 200
        and {"role": "secretary", "organization_id": world["orgs"]["child"]} in appointed.json()["positions"]
    )
    # her own branch's positions are the grassroots committee's (or an administrator's) to give
    in_branch = {"organization_id": world["orgs"]["own"], "role": "deputy_secretary"}
    refused = call(running, "POST", f"/members/{member}/positions", secretary, json=in_branch)
    assert refused.status_code == 403 and error_code(refused) == "forbidden"
    elsewhere = {"organization_id": world["orgs"]["sibling"], "role": "secretary"}
    assert call(running, "POST", f"/members/{member}/positions", secretary, json=elsewhere).status_code == 404
    admin_role = {"organization_id": world["orgs"]["child"], "role": "system_administrator"}
    assert call(running, "POST", f"/members/{member}/positions", secretary, json=admin_role).status_code == 404
    ended = call(running, "DELETE", f"/members/{member}/positions", secretary, json=in_group)
    assert ended.status_code == 200 and ended.json()["positions"] == []
    mate = world["members"]["mate"]
    assert (
        call(running, "POST", f"/members/{mate}/positions", world["tokens"]["member"], json=in_group).status_code == 404
    )
    # and nobody appoints themselves, even below their own organisation
    herself = call(running, "POST", f"/members/{world['ids']['secretary']}/positions", secretary, json=in_group)
    assert herself.status_code == 403


def b64(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def crew(world):
    """Officers signed in before they hold a position, then appointed by the administrator, each in a province
    of their own: the secretary of a grassroots committee, a member of one of its branches who will move, the
    secretary of a branch elsewhere, and a committee member of a branch whose sitting secretary was added for
    the purpose."""
    factory = world["factory"]
    old_branch = factory.branch()
    mover_branch = factory.organization(old_branch["parent_id"])
    new_branch, committee_branch = factory.branch(), factory.branch()
    records = {
        "old_secretary": factory.officer({"id": old_branch["parent_id"]}, member_of=old_branch),
        "mover": factory.member(mover_branch, activated=True),
        "new_secretary": factory.officer(new_branch),
        "committee_member": factory.officer(committee_branch, role="committee_member"),
    }
    sitting = factory.member(
        committee_branch,
        status="probationary",
        full_name="Lò Văn Sáng",
        date_of_birth="1970-01-01",
        admission_date="2025-01-01",
    )
    factory.appoint(sitting, committee_branch, "secretary")
    return {"tokens": {who: person["token"] for who, person in records.items()}, "records": records, "sitting": sitting}


def test_a_committee_member_neither_appoints_herself_nor_removes_the_sitting_secretary(running, world, crew):
    token, me = crew["tokens"]["committee_member"], crew["records"]["committee_member"]
    branch = {"organization_id": me["organization_id"], "role": "secretary"}
    herself = call(running, "POST", f"/members/{me['id']}/positions", token, json=branch)
    assert herself.status_code == 403, herself.text
    sitting = call(running, "DELETE", f"/members/{crew['sitting']['id']}/positions", token, json=branch)
    assert sitting.status_code == 403, sitting.text
    record = call(running, "GET", f"/members/{crew['sitting']['id']}", world["tokens"]["admin"]).json()
    assert {"role": "secretary", "organization_id": me["organization_id"]} in record["positions"]
    # nor edits a fellow officer of her own organisation: that is for the committee above
    edit = call(running, "PATCH", f"/members/{crew['sitting']['id']}", token, json={"phone": "+84911111111"})
    assert edit.status_code == 403, edit.text


def test_a_secretary_does_not_approve_her_own_change_request(running, world):
    secretary = world["tokens"]["secretary"]
    asked = call(running, "PATCH", "/me", secretary, json={"date_of_birth": "1978-09-03"})
    request_id = asked.json()["change_request"]["id"]
    assert request_id not in [r["id"] for r in call(running, "GET", "/change-requests", secretary).json()["items"]]
    own = call(running, "POST", f"/change-requests/{request_id}/approve", secretary)
    assert own.status_code == 403 and error_code(own) == "forbidden"
    assert call(running, "GET", "/me", secretary).json()["date_of_birth"] == "1978-09-02"
    # the committee above decides it (here the administrator)
    assert (
        call(
            running,
            "POST",
            f"/change-requests/{request_id}/reject",
            world["tokens"]["admin"],
            json={"reason": "Không khớp CCCD"},
        ).status_code
        == 200
    )


def test_after_a_transfer_the_new_secretary_decides_not_the_old_one(running, world, crew):
    old, new = crew["tokens"]["old_secretary"], crew["tokens"]["new_secretary"]
    mover = crew["records"]["mover"]

    def pending(token):
        return [r["id"] for r in call(running, "GET", "/change-requests", token).json()["items"]]

    request_id = call(running, "PATCH", "/me", crew["tokens"]["mover"], json={"full_name": "Đỗ Văn Tuấn Anh"}).json()[
        "change_request"
    ]["id"]
    assert request_id in pending(old) and request_id not in pending(new)
    issued = call(
        running,
        "POST",
        f"/members/{mover['id']}/transfers",
        old,
        json={"to_organization_id": crew["records"]["new_secretary"]["organization_id"]},
    )
    assert issued.status_code == 201, issued.text
    assert call(running, "POST", f"/transfers/{issued.json()['id']}/accept", new).status_code == 200
    # authority follows the member's current organisation
    assert request_id not in pending(old) and request_id in pending(new)
    assert call(running, "POST", f"/change-requests/{request_id}/approve", old).status_code == 404
    assert call(running, "GET", f"/members/{mover['id']}", old).status_code == 404
    assert call(running, "GET", f"/members/{mover['id']}", new).status_code == 200
    assert (
        call(running, "POST", f"/members/{mover['id']}/records", old, json={"kind": "reward", "title": "x"}).status_code
        == 404
    )
    assert call(running, "POST", f"/change-requests/{request_id}/approve", new).status_code == 200
    assert call(running, "GET", "/me", crew["tokens"]["mover"]).json()["full_name"] == "Đỗ Văn Tuấn Anh"


def test_a_member_lists_only_current_members_of_their_branch_by_name(running, world):
    admin, member, secretary = world["tokens"]["admin"], world["tokens"]["member"], world["tokens"]["secretary"]
    added = call(
        running,
        "POST",
        "/members",
        admin,
        json={
            "citizen_id": "001070000901",
            "full_name": "Tạ Văn Rời",
            "status": "probationary",
            "organization_id": world["orgs"]["own"],
            "date_of_birth": "1980-01-01",
            "admission_date": "2025-01-01",
        },
    )
    assert added.status_code == 201, added.text
    removed = call(
        running,
        "PATCH",
        f"/members/{added.json()['id']}",
        admin,
        json={"status": "removed", "left_on": "2026-10-01", "leaving_reason": "Xoá tên"},
    )
    assert removed.status_code == 200, removed.text

    def names(token=member, **params):
        page = call(
            running, "GET", f"/organizations/{world['orgs']['own']}/members", token, params={"limit": 200, **params}
        )
        assert page.status_code == 200, page.text
        return [m["full_name"] for m in page.json()["items"]]

    lan = world["people"]["secretary"]
    for status in (None, "removed", "expelled", "official"):
        assert "Tạ Văn Rời" not in names(**({"status": status} if status else {}))
    assert names(q="ta van roi") == []
    assert names(q=lan["citizen_id"]) == [] and names(q=lan["party_card_number"]) == []  # an ID, a party card
    assert names(q="nguyen thi lan") == ["Nguyễn Thị Lan"]
    items = call(running, "GET", f"/organizations/{world['orgs']['own']}/members", member).json()["items"]
    assert all(set(m) == {"id", "full_name", "positions"} for m in items)
    # officers keep the full search of their subtree
    assert names(secretary, q="001070000901") == ["Tạ Văn Rời"]
    assert names(secretary, q=lan["party_card_number"]) == ["Nguyễn Thị Lan"]


def full_width(digits):
    return "".join(chr(ord(d) + 0xFEE0) for d in digits)


def arabic_indic(digits):
    return "".join(chr(ord(d) - ord("0") + 0x0660) for d in digits)


@pytest.mark.parametrize(
    "citizen_id",
    [full_width("001000000002"), arabic_indic("001000000002"), "001000000002\n", " 001000000002", "001000000002 "],
    ids=["full-width", "arabic-indic", "newline", "lead", "trail"],
)
def test_a_citizen_id_is_twelve_ascii_digits_everywhere(running, world, citizen_id):
    created = call(
        running,
        "POST",
        "/members",
        world["tokens"]["secretary"],
        json={
            "citizen_id": citizen_id,
            "full_name": "Lê Văn Hùng",
            "status": "probationary",
            "organization_id": world["orgs"]["own"],
            "admission_date": "2025-01-01",
        },
    )
    assert created.status_code == 400 and "citizen_id" in created.json()["error"]["details"], created.text
    signed_in = requests.post(
        f"{running.base}/auth/login", json={"citizen_id": citizen_id, "password": "x" * 12}, timeout=10
    )
    assert signed_in.status_code == 400 and error_code(signed_in) == "validation_error"
    activation = requests.post(f"{running.base}/auth/activation", json={"citizen_id": citizen_id}, timeout=10)
    assert activation.status_code == 400 and error_code(activation) == "validation_error"


def test_an_import_takes_ascii_citizen_ids_only(running, world):
    admin = world["tokens"]["admin"]
    rest = f"1988-08-08,Nam,,,,2012-01-01,2013-01-01,{world['codes']['own']},chính thức\n"
    job = imported(
        running,
        admin,
        f'" 001088000701\n",Hà Văn Một,{rest}'
        f"{full_width('001088000702')},Hà Văn Hai,{rest}"
        f"{arabic_indic('001088000703')},Hà Văn Ba,{rest}",
    )
    assert (job["status"], job["accepted"], job["rejected"]) == ("completed", 1, 2)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [(3, "citizen_id"), (4, "citizen_id")]
    # a spreadsheet cell is trimmed like every other cell: what is stored is the 12 digits
    found = call(
        running, "GET", f"/organizations/{world['orgs']['own']}/members", admin, params={"q": "001088000701"}
    ).json()["items"]
    assert [(m["citizen_id"], m["full_name"]) for m in found] == [("001088000701", "Hà Văn Một")]


def test_an_officer_learns_nothing_of_members_outside_their_subtree(running, world, crew):
    admin, officer = world["tokens"]["admin"], crew["tokens"]["committee_member"]
    branch = crew["records"]["committee_member"]["organization_id"]

    def register(citizen_id, **extra):
        return call(
            running,
            "POST",
            "/members",
            officer,
            json={
                "citizen_id": citizen_id,
                "full_name": "Mạc Văn Thử",
                "status": "probationary",
                "organization_id": branch,
                "admission_date": "2025-01-01",
                **extra,
            },
        )

    outsider = world["people"]["member"]  # a member of a branch in another province
    inside = register(crew["sitting"]["citizen_id"])  # the sitting secretary of the officer's own branch
    assert inside.status_code == 409 and "citizen_id" in inside.json()["error"]["details"], inside.text
    outside = register(outsider["citizen_id"])
    assert outside.status_code == 202 and outside.json()["status"] == "pending_review", outside.text
    assert "citizen_id" not in outside.json() and "already" not in outside.text
    card = register("001070000802", party_card_number=outsider["party_card_number"])
    assert card.status_code == 202 and card.json()["status"] == "pending_review", card.text
    # administrators see what is waiting, with the member's current organisation
    assert call(running, "GET", "/member-registrations", officer).status_code == 403
    waiting = call(running, "GET", "/member-registrations", admin).json()["items"]
    mine = {r["citizen_id"]: r for r in waiting if r["requested_by"] == crew["records"]["committee_member"]["id"]}
    assert mine[outsider["citizen_id"]]["member"]["organization_id"] == world["orgs"]["own"]
    assert mine[outsider["citizen_id"]]["organization_id"] == branch
    assert mine[outsider["citizen_id"]]["status"] == "pending_review"
    assert mine["001070000802"]["member"]["id"] == outsider["id"]  # whose card it is
    review = mine[outsider["citizen_id"]]["id"]
    assert call(running, "POST", f"/member-registrations/{review}/close", officer).status_code == 403
    closed = call(running, "POST", f"/member-registrations/{review}/close", admin, json={"reason": "Đã là đảng viên"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert review not in [r["id"] for r in call(running, "GET", "/member-registrations", admin).json()["items"]]
    # a few a day: then every registration waits for tomorrow, so the limit itself tells nothing
    assert register(world["people"]["other"]["citizen_id"]).status_code == 202
    limited = register("001070000803")
    assert limited.status_code == 429 and error_code(limited) == "too_many_attempts", limited.text
    assert (
        call(running, "GET", f"/organizations/{branch}/members", admin, params={"q": "001070000803"}).json()["items"]
        == []
    )


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": b64([None, None])},
        {"cursor": b64([{"x": 1}, 1])},
        {"cursor": b64(["a", 2**63])},
        {"cursor": b64(["a", True])},
        {"q": "\u0301\u0302"},
    ],
    ids=["nulls", "objects", "huge-id", "boolean", "combining-marks"],
)
def test_bad_search_input_is_a_400(running, world, params):
    answer = call(
        running, "GET", f"/organizations/{world['orgs']['parent']}/members", world["tokens"]["admin"], params=params
    )
    assert answer.status_code == 400 and error_code(answer) == "validation_error", answer.text


def test_a_name_ending_in_the_last_code_point_is_searched(running, world):
    answer = call(
        running,
        "GET",
        f"/organizations/{world['orgs']['parent']}/members",
        world["tokens"]["admin"],
        params={"q": "lê\U0010ffff"},
    )
    assert answer.status_code == 200 and answer.json()["items"] == []


def test_a_party_card_number_belongs_to_one_member(running, world):
    secretary, member = world["tokens"]["secretary"], world["tokens"]["member"]
    lans_card = world["people"]["secretary"]["party_card_number"]
    edited = call(
        running, "PATCH", f"/members/{world['members']['self']}", secretary, json={"party_card_number": lans_card}
    )
    assert edited.status_code == 409 and "party_card_number" in edited.json()["error"]["details"], edited.text
    created = call(
        running,
        "POST",
        "/members",
        secretary,
        json={
            "citizen_id": "001070000902",
            "full_name": "Mạc Thị Thẻ",
            "status": "probationary",
            "organization_id": world["orgs"]["own"],
            "admission_date": "2025-01-01",
            "party_card_number": lans_card,
        },
    )
    assert created.status_code == 409 and "party_card_number" in created.json()["error"]["details"], created.text
    request_id = call(running, "PATCH", "/me", member, json={"party_card_number": lans_card}).json()["change_request"][
        "id"
    ]
    approved = call(running, "POST", f"/change-requests/{request_id}/approve", secretary)
    assert approved.status_code == 409 and "party_card_number" in approved.json()["error"]["details"], approved.text
    # nothing half-done: the request still waits, and can be rejected
    assert request_id in [r["id"] for r in call(running, "GET", "/change-requests", secretary).json()["items"]]
    assert call(running, "POST", f"/change-requests/{request_id}/reject", secretary).status_code == 200


def test_an_officer_who_left_the_party_holds_no_authority(running, world, crew):
    token, me = crew["tokens"]["committee_member"], crew["records"]["committee_member"]
    branch = me["organization_id"]
    assert call(running, "GET", f"/organizations/{branch}/stats", token).status_code == 200
    left = call(
        running,
        "PATCH",
        f"/members/{me['id']}",
        world["tokens"]["admin"],
        json={"status": "expelled", "left_on": "2026-11-01", "leaving_reason": "Khai trừ"},
    )
    assert left.status_code == 200, left.text
    # members refuses whatever the session does (identity ends it too: then 401)
    for method, path in (
        ("GET", f"/organizations/{branch}/stats"),
        ("GET", f"/organizations/{branch}/members"),
        ("GET", f"/members/{crew['sitting']['id']}"),
    ):
        assert call(running, method, path, token).status_code in (401, 404), path
    edit = call(running, "PATCH", f"/members/{crew['sitting']['id']}", token, json={"email": "x@y.vn"})
    assert edit.status_code in (401, 404)
