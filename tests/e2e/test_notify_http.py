"""Every member hears what concerns them, once: inbox and SMS from other services' events."""

import pytest
import requests

from tests.e2e.conftest import bearer
from tests.e2e.people import Factory
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def factory(running):
    return Factory(running)


def inbox(running, token, **params):
    return requests.get(f"{running.base}/me/notifications", headers=bearer(token), params=params, timeout=10).json()


def test_an_activated_member_finds_one_welcome_in_their_inbox(running, factory):
    member = factory.member(factory.branch(), activated=True)
    token = member["token"]
    page = wait_for(lambda: inbox(running, token)["items"] and inbox(running, token), message="the welcome item")
    assert [item["title"] for item in page["items"]].count("Tài khoản Sổ tay đã kích hoạt") == 1
    first = page["items"][0]["id"]
    assert requests.post(f"{running.base}/me/notifications/{first}/read", headers=bearer(token), timeout=10).json() == {
        "marked": 1
    }
    assert inbox(running, token, unread="true")["unread"] == page["unread"] - 1
    requests.post(f"{running.base}/me/notifications/all/read", headers=bearer(token), timeout=10)
    assert inbox(running, token)["unread"] == 0
    welcome = [m for m in running.sms(member["phone"]) if "đã kích hoạt tài khoản" in m["text"]]
    assert len(welcome) == 1


def test_preferences_cannot_switch_security_messages_off(running, factory):
    token = factory.member(factory.branch(), activated=True)["token"]
    url = f"{running.base}/me/notification-preferences"
    refused = requests.put(
        url,
        headers=bearer(token),
        timeout=10,
        json={"items": [{"category": "security", "channel": "sms", "enabled": False}]},
    )
    assert refused.status_code == 400
    changed = requests.put(
        url,
        headers=bearer(token),
        timeout=10,
        json={"items": [{"category": "announcements", "channel": "sms", "enabled": False}]},
    )
    assert {"category": "announcements", "channel": "sms", "enabled": False, "mandatory": False} in changed.json()[
        "items"
    ]
    device = requests.post(
        f"{running.base}/me/devices",
        headers=bearer(token),
        timeout=10,
        json={"platform": "android", "token": "fcm-token-0123456789"},
    )
    assert device.status_code == 201


def test_a_committee_going_live_invites_its_members_who_have_not_activated(running, factory):
    province = factory.province(rollout="disabled")
    branch = factory.branch(factory.organization(province["id"]))
    phone = factory.member(branch)["phone"]
    factory.rollout(province, "live")
    wait_for(lambda: [m for m in running.sms(phone) if "đã triển khai" in m["text"]], message="the invitation SMS")
    # saying "live" again changes nothing and invites nobody twice
    factory.rollout(province, "live")
    assert len([m for m in running.sms(phone) if "đã triển khai" in m["text"]]) == 1
