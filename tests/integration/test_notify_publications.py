"""content's and meetings' events reach members through notify over the real broker (notify in-process; the producing
services need not run: the events are published as their outboxes publish them)."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from nameko.amqp.publish import get_producer
from sqlalchemy import insert, select

from shared import config, migrations
from shared.db import standalone_unit
from shared.events import envelope
from shared.rpc import service_client
from shared.topology import events_exchange
from services.notify import inbox, publications
from services.notify.models import Base, Delivery, Device, Recipient, directory
from tests.integration.test_postgresql import databases  # noqa: F401  (a fresh PostgreSQL database per service)
from tests.support.notify import drain_pushes, handled, publication, sms_sink, withdrawal
from tests.support.rabbit import queue_idle
from tests.support.waiting import wait_for

BRANCH, OTHER_BRANCH = "/1/2/3/4/", "/1/9/10/11/"


def a_directory(members, devices=False):
    """notify's projection: `members` {member_id: organisation path}, the whole country in pilot; a device each."""
    unit, database = standalone_unit(Base.metadata, "notify")
    with unit.transaction() as session:
        session.add(directory.Organization(id=1, path="/1/", level="central", rollout="pilot"))
        session.execute(
            insert(Recipient),
            [
                {
                    "member_id": member_id,
                    "full_name": f"Đảng viên {member_id}",
                    "organization_id": int(path.rstrip("/").rsplit("/", 1)[1]),
                    "organization_path": path,
                    "status": "official",
                    "phone": f"+8491{member_id:07d}",
                    "language": "vi",
                    "activated": True,
                    "in_party": True,
                }
                for member_id, path in members.items()
            ],
        )
        if devices:
            session.execute(
                insert(Device), [{"member_id": m, "platform": "android", "token": f"fcm-{m:08d}"} for m in members]
            )
    unit.close()
    database.engine.dispose()


def emit(event_type, payload, copies=1, event=None):
    event = event or envelope(event_type, payload)
    with get_producer(config.amqp_uri()) as producer:
        for _ in range(copies):
            producer.publish(
                event,
                exchange=events_exchange(event_type.split(".", 1)[0]),
                routing_key=event_type,
                serializer="json",
                delivery_mode=2,
            )
    return event


def documents(member_id):
    unit, database = standalone_unit(Base.metadata, "notify")
    try:
        with unit.reading() as session:
            return [i["document_id"] for i in inbox.inbox(session, member_id)["items"] if i["document_id"]]
    finally:
        unit.close()
        database.engine.dispose()


def test_a_publication_reaches_its_subtree_and_nobody_else_and_a_withdrawal_takes_it_away(
    prepare, containers, settings
):
    notify_cls = prepare("notify")
    a_directory({1: BRANCH, 2: OTHER_BRANCH})
    containers(notify_cls)
    emit("content.document_published", publication(57, "/1/2/", category="resolution"))
    wait_for(lambda: documents(1) == [57], message="the publication in the inbox of a member of the province")
    assert documents(2) == []
    emit("content.document_withdrawn", withdrawal(57, "/1/2/"))
    wait_for(lambda: documents(1) == [], message="the withdrawn document gone from the inbox")


def test_a_member_who_transfers_sees_the_new_branchs_publications(prepare, containers, settings):
    notify_cls = prepare("notify")
    a_directory({1: BRANCH})
    containers(notify_cls)
    emit("content.document_published", publication(10, BRANCH))
    emit("content.document_published", publication(11, OTHER_BRANCH))
    wait_for(lambda: documents(1) == [10], message="the old branch's publication")
    emit(
        "members.member_updated",
        {
            "member_id": 1,
            "citizen_id": "001090000001",
            "full_name": "Đảng viên 1",
            "status": "official",
            "organization_id": 11,
            "organization_path": OTHER_BRANCH,
            "phone": "+84910000001",
        },
    )
    wait_for(lambda: documents(1) == [11], message="the new branch's publication, and not the old one's")


def test_a_redelivered_meeting_event_sends_nothing_again(prepare, containers, settings):
    notify_cls = prepare("notify")
    a_directory({1: BRANCH, 2: BRANCH})
    containers(notify_cls)
    starts = datetime(2026, 12, 5, 12, 30, tzinfo=UTC)
    facts = {
        "meeting_id": 3,
        "organization_id": 4,
        "organization_path": BRANCH,
        "kind": "regular",
        "title": "Sinh hoạt chi bộ tháng 12",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "location": "Hội trường",
        "invitees": [1, 2],
    }
    emit("meetings.meeting_scheduled", facts, copies=2)  # the broker redelivers, or an operator replays it
    emit("meetings.reminder_time_reached", {**facts, "lead": "24h"})
    emit("meetings.reminder_time_reached", {**facts, "lead": "24h"})  # the same reminder under another event id
    wait_for(lambda: len(sms_sink()) >= 4, message="the invitation and the reminder to both invitees")
    for queue in ("evt-meetings-meeting_scheduled--notify.on_meeting_scheduled",
                  "evt-meetings-reminder_time_reached--notify.on_reminder_time_reached"):  # fmt: skip
        wait_for(lambda queue=queue: queue_idle(config.amqp_uri(), queue), message="every delivery handled")
    texts = sorted(line["text"] for line in sms_sink())
    assert len(texts) == 4 and sum("19:30 ngày 05/12/2026" in text for text in texts) == 4
    assert sorted(line["to"] for line in sms_sink()) == ["+84910000001"] * 2 + ["+84910000002"] * 2


PUSHED = 20_000


def push_sink():
    path = config.data_dir() / "outbox" / "push.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_codes_go_first_while_a_national_publication_is_pushed(prepare, containers, settings):
    notify_cls = prepare("notify")
    a_directory({n: f"/1/2/{3 + n % 50}/" for n in range(1, PUSHED + 1)}, devices=True)
    containers(notify_cls)
    emit("content.document_published", publication(1, "/1/", title="Nghị quyết số 1"))
    wait_for(lambda: documents(PUSHED) == [1], message="the publication in a member's inbox")
    wait_for(lambda: len(push_sink()) > 0, timeout=60, message="the push fan-out to start sending")
    with service_client("identity") as client:
        asked = time.monotonic()
        client.notify.send_otp({"to": "+84900000001", "text": "Sổ tay: mã 654321"})
        waited = time.monotonic() - asked
    code = next(line for line in sms_sink() if line["to"] == "+84900000001")
    pushes = wait_for(lambda: len(push_sink()) >= PUSHED and push_sink(), timeout=180, message="every push")
    # the code did not wait for the fan-out: a small part of its time, whatever the machine's load (the
    # absolute figure, p99 < 2 s, is bench.publication's)
    fan_out = datetime.fromisoformat(pushes[-1]["sent_at"]) - datetime.fromisoformat(pushes[0]["sent_at"])
    assert waited < fan_out.total_seconds() / 4, f"the code waited {waited:.2f} s, the fan-out took {fan_out}"
    assert code["sent_at"] < pushes[-1]["sent_at"]  # it went out while pushes were still being sent
    assert len({line["id"] for line in pushes}) == PUSHED == len(pushes)  # each device once
    assert json.loads(pushes[0]["to"])["platform"] == "android"
    assert pushes[0]["subject"] == "Văn bản mới: Nghị quyết số 1"


@pytest.mark.usefixtures("databases")
def test_publications_their_inbox_and_their_push_on_postgresql(settings):
    migrations.upgrade("notify")
    a_directory({1: BRANCH, 2: BRANCH, 3: "/1/2/3/5/", 4: OTHER_BRANCH}, devices=True)
    unit, database = standalone_unit(Base.metadata, "notify")
    subscription = {"endpoint": "https://push.example.vn/" + "s" * 300, "keys": {"p256dh": "B" * 87, "auth": "a" * 22}}
    with unit.transaction() as session:  # a browser's subscription is longer than a phone's token
        session.add(Device(member_id=2, platform="web", token=json.dumps(subscription)))
    try:
        handled(unit, "content.document_published", publication(5, "/1/2/"))
        handled(unit, "content.document_published", publication(6, "/1/"))
        assert drain_pushes(unit, limit=2) >= 3
        pushed = sorted(unit.session.scalars(select(Delivery.member_id).where(Delivery.event_id == "publication:5:1")))
        assert pushed == [1, 2, 2, 3]
        with unit.transaction() as session:
            first = inbox.inbox(session, 1, limit=1)
            second = inbox.inbox(session, 1, cursor=first["next_cursor"], limit=1)
            assert [i["document_id"] for i in first["items"] + second["items"]] == [6, 5]
            assert inbox.mark_read(unit, 1, second["items"][0]["id"]) == {"marked": 1}
            assert inbox.inbox(session, 4)["unread"] == 1 and inbox.inbox(session, 1)["unread"] == 1
        handled(unit, "content.document_withdrawn", withdrawal(5, "/1/2/"))
        drain_pushes(unit)
        with unit.transaction() as session:
            assert [i["document_id"] for i in inbox.inbox(session, 1)["items"]] == [6]
            statuses = session.scalars(select(Delivery.status).where(Delivery.event_id == "publication:5:1"))
            assert set(statuses) == {"expired"}
            assert publications.push_batch(session) is None
    finally:
        unit.close()
        database.engine.dispose()
