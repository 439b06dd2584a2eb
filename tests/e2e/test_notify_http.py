"""Every member hears what concerns them, once: inbox and SMS from other services' events."""
import pytest
import requests

from tests.e2e.conftest import GOOD_PASSWORD, bearer, last_code, login
from tests.e2e.people import known_to_identity
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def inbox(running, token, **params):
    return requests.get(f"{running.base}/me/notifications", headers=bearer(token), params=params, timeout=10).json()


def test_an_activated_member_finds_one_welcome_in_their_inbox(running):
    admin = login(running.base, "001000000000").json()["access_token"]
    branch = requests.get(f"{running.base}/me", headers=bearer(admin), timeout=10).json()["organization_id"]
    created = requests.post(f"{running.base}/members", headers=bearer(admin), timeout=10, json={
        "citizen_id": "001091000777", "full_name": "Tạ Thị Duyên", "status": "official", "organization_id": branch,
        "phone": "+84912000777", "date_of_birth": "1991-04-04", "admission_date": "2015-04-04",
        "official_date": "2016-04-04"})
    assert created.status_code == 201
    # before identity knows the member a request would be a stranger's, and a second one waits 60 s
    wait_for(lambda: known_to_identity(running, "001091000777"), message="identity to know the new member")
    answer = requests.post(f"{running.base}/auth/activation", json={"citizen_id": "001091000777"}, timeout=10).json()
    verified = requests.post(f"{running.base}/auth/activation/{answer['activation_id']}/verify", timeout=10,
                             json={"otp": last_code(running, "+84912000777"), "new_password": GOOD_PASSWORD})
    token = verified.json()["access_token"]
    page = wait_for(lambda: inbox(running, token)["items"] and inbox(running, token), message="the welcome item")
    assert [item["title"] for item in page["items"]].count("Tài khoản Sổ tay đã kích hoạt") == 1
    first = page["items"][0]["id"]
    assert requests.post(f"{running.base}/me/notifications/{first}/read", headers=bearer(token), timeout=10).json() \
        == {"marked": 1}
    assert inbox(running, token, unread="true")["unread"] == page["unread"] - 1
    requests.post(f"{running.base}/me/notifications/all/read", headers=bearer(token), timeout=10)
    assert inbox(running, token)["unread"] == 0
    welcome = [m for m in running.sms("+84912000777") if "đã kích hoạt tài khoản" in m["text"]]
    assert len(welcome) == 1


def test_preferences_cannot_switch_security_messages_off(running):
    token = login(running.base, "001000000002").json()["access_token"]
    url = f"{running.base}/me/notification-preferences"
    refused = requests.put(url, headers=bearer(token), timeout=10,
                           json={"items": [{"category": "security", "channel": "sms", "enabled": False}]})
    assert refused.status_code == 400
    changed = requests.put(url, headers=bearer(token), timeout=10,
                           json={"items": [{"category": "announcements", "channel": "sms", "enabled": False}]})
    assert {"category": "announcements", "channel": "sms", "enabled": False, "mandatory": False} \
        in changed.json()["items"]
    device = requests.post(f"{running.base}/me/devices", headers=bearer(token), timeout=10,
                           json={"platform": "android", "token": "fcm-token-0123456789"})
    assert device.status_code == 201


def test_a_committee_going_live_invites_its_members_who_have_not_activated(running):
    admin = login(running.base, "001000000000").json()["access_token"]

    def post(path, body):
        response = requests.post(f"{running.base}{path}", headers=bearer(admin), json=body, timeout=10)
        assert response.status_code in (200, 201), response.text
        return response.json()

    provinces = requests.get(f"{running.base}/organizations/1/children", headers=bearer(admin), timeout=10).json()
    hue = next(o for o in provinces["items"] if o["name"].endswith("Huế"))     # not rolled out yet
    commune = post(f"/organizations/{hue['id']}/children", {"code": "HUE-G1", "name": "Đảng bộ phường Thuận Hoá"})
    branch = post(f"/organizations/{commune['id']}/children", {"code": "HUE-G1-B1", "name": "Chi bộ Tổ dân phố 1"})
    post("/members", {"citizen_id": "046070000888", "full_name": "Hồ Văn Lực", "status": "official",
                      "organization_id": branch["id"], "phone": "+84935000888", "date_of_birth": "1970-02-02",
                      "admission_date": "1995-02-02", "official_date": "1996-02-02"})
    time_to_project = wait_for(lambda: requests.get(f"{running.base}/organizations/{branch['id']}/members",
                                                    headers=bearer(admin), timeout=10).json()["items"],
                               message="the new member")
    assert time_to_project
    requests.put(f"{running.base}/organizations/{hue['id']}/rollout", headers=bearer(admin),
                 json={"state": "live"}, timeout=10)
    wait_for(lambda: [m for m in running.sms("+84935000888") if "đã triển khai" in m["text"]],
             message="the invitation SMS")
    # saying "live" again changes nothing and invites nobody twice
    requests.put(f"{running.base}/organizations/{hue['id']}/rollout", headers=bearer(admin),
                 json={"state": "live"}, timeout=10)
    assert len([m for m in running.sms("+84935000888") if "đã triển khai" in m["text"]]) == 1
