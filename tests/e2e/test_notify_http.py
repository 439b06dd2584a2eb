"""Every member hears what concerns them, once: inbox and SMS from other services' events."""

import os
import sqlite3
from datetime import UTC, datetime

import pytest
import requests
from nameko.amqp.publish import get_producer

from shared.events import envelope
from shared.topology import events_exchange
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


def organization_path(running, member_id):
    """The member's organisation path as notify's directory holds it (members' events brought it)."""

    def projected():
        with sqlite3.connect(os.path.join(running.data_dir, "notify.db")) as db:
            row = db.execute(
                "SELECT organization_path FROM directory_members WHERE member_id = ?", (member_id,)
            ).fetchone()
        return row and row[0]

    return wait_for(projected, message="the member in notify's directory")


def test_a_publication_is_in_its_audiences_inboxes_and_read_like_any_item(running, factory):
    reader, outsider = (factory.member(factory.branch(), activated=True) for _ in range(2))
    path = organization_path(running, reader["id"])
    organization_path(running, outsider["id"])
    event = envelope(
        "content.document_published",
        {
            "document_id": 9_000_001,
            "version": 1,
            "category": "directive",
            "title": "Chỉ thị về sinh hoạt chi bộ",
            "summary": "Nâng cao chất lượng sinh hoạt chi bộ",
            "audience": [{"organization_id": int(path.rstrip("/").rsplit("/", 1)[1]), "organization_path": path}],
            "published_at": datetime.now(UTC).isoformat(),
        },
    )
    with get_producer(running.amqp_uri) as producer:  # as content's outbox relay publishes it
        producer.publish(
            event, exchange=events_exchange("content"), routing_key=event["type"], serializer="json", delivery_mode=2
        )
    item = wait_for(
        lambda: next((i for i in inbox(running, reader["token"])["items"] if i["kind"] == "publication"), None),
        message="the publication in the reader's inbox",
    )
    assert (item["document_id"], item["title"], item["category"], item["read"]) == (
        9_000_001,
        "Chỉ thị về sinh hoạt chi bộ",
        "announcements",
        False,
    )
    assert [i for i in inbox(running, outsider["token"])["items"] if i["kind"] == "publication"] == []
    url = f"{running.base}/me/notifications/{item['id']}/read"
    assert requests.post(url, headers=bearer(outsider["token"]), timeout=10).status_code == 404
    unread = inbox(running, reader["token"])["unread"]
    assert requests.post(url, headers=bearer(reader["token"]), timeout=10).json() == {"marked": 1}
    assert inbox(running, reader["token"])["unread"] == unread - 1
