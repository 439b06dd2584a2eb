"""Delivery through real channels: a real SMTP server (aiosmtpd), failures retried then recorded."""

import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from services.notify import domain
from services.notify.channels import FileSink, SmtpEmail
from services.notify.models import Delivery
from services.notify.service import send_batch
from tests.support.waiting import free_port, wait_for


@pytest.fixture
def smtp_server(tmp_path):
    """aiosmtpd in its own process; what it receives is printed to a file."""
    port = free_port()
    log = open(tmp_path / "smtp.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Debugging",
            "stdout",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )

    def listening():
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, message="the SMTP server")
    yield port, tmp_path / "smtp.log"
    process.terminate()
    process.wait(timeout=10)
    log.close()


def add_email(unit, event_id="evt-1"):
    with unit.transaction() as session:
        session.add(
            Delivery(
                event_id=event_id,
                member_id=7,
                channel="email",
                priority=1,
                destination="lan@example.vn",
                subject="Sổ tay",
                text="Chào đồng chí Lan",
            )
        )


def test_an_email_reaches_a_real_smtp_server(notify_db, smtp_server):
    unit, database = notify_db
    port, received = smtp_server
    add_email(unit)
    channels = {"email": SmtpEmail("127.0.0.1", port, "so-tay@example.vn"), "sms": FileSink("sms")}
    assert send_batch(database, channels) == 1
    assert unit.session.scalar(select(Delivery.status)) == "sent"
    wait_for(lambda: "lan@example.vn" in received.read_text(), message="the message at the SMTP server")


def test_an_smtp_failure_is_retried_then_recorded_as_failed(notify_db):
    unit, database = notify_db
    add_email(unit)
    closed_port = free_port()  # nothing listens there
    channels = {"email": SmtpEmail("127.0.0.1", closed_port, "so-tay@example.vn", timeout=2)}
    for attempt in range(1, domain.MAX_ATTEMPTS + 1):
        assert send_batch(database, channels) == 1
        with unit.transaction() as session:
            session.expire_all()  # read what the sender wrote
            row = session.scalar(select(Delivery))
            assert row.attempts == attempt and row.last_error.startswith("smtp:")
            if row.status == "pending":
                assert row.next_attempt_at is not None
                row.next_attempt_at = None  # skip the back-off wait in the test
    unit.session.expire_all()
    assert unit.session.scalar(select(Delivery.status)) == "failed"
    assert send_batch(database, channels) == 0  # a failed delivery is not tried again
    outbox = database.outbox
    events = unit.session.execute(select(outbox.c.type, outbox.c.payload)).all()
    assert [(t, p["channel"]) for t, p in events] == [("notify.delivery_failed", "email")]


def test_the_same_event_never_makes_a_second_message(notify_db):
    unit, _ = notify_db
    with unit.transaction() as session:
        domain.project_member(
            session,
            {
                "member_id": 7,
                "full_name": "Lê Thị Lan",
                "organization_id": 3,
                "organization_path": "/1/2/3/",
                "phone": "+84912000007",
                "status": "official",
            },
        )
    for _ in range(2):
        with unit.transaction() as session:
            domain.notify_member(session, "event-42", 7, "transfer_issued")
    assert len(unit.session.scalars(select(Delivery)).all()) == 1


def standin(tmp_path, fail_first):
    port = free_port()
    log = tmp_path / "gateway.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tools.sms_gateway_standin",
            "--port",
            str(port),
            "--log",
            str(log),
            "--token",
            "t0k3n",
            "--fail-first",
            str(fail_first),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def listening():
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, message="the HTTP stand-in")
    return process, f"http://127.0.0.1:{port}/messages", log


@pytest.fixture
def sms_gateway(tmp_path):
    process, url, log = standin(tmp_path, fail_first=2)
    yield url, log
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=[0, 1], ids=["all-answer", "fcm-down-once"])
def push_services(tmp_path, request):
    process, url, log = standin(tmp_path, fail_first=request.param)  # failures hit FCM, not Web Push
    yield url.rsplit("/", 1)[0], log
    process.terminate()
    process.wait(timeout=10)


def test_sms_through_an_http_gateway_is_retried_until_it_is_accepted(notify_db, sms_gateway):
    from services.notify.channels import HttpSms

    unit, database = notify_db
    url, log = sms_gateway
    with unit.transaction() as session:
        session.add(
            Delivery(
                event_id="evt-9", member_id=9, channel="sms", priority=1, destination="+84912000009", text="Sổ tay: thử"
            )
        )
    channels = {"sms": HttpSms(url, token="t0k3n")}
    for _ in range(3):  # the stand-in refuses the first two
        send_batch(database, channels)
        with unit.transaction() as session:
            session.expire_all()
            for row in session.scalars(select(Delivery).where(Delivery.status == "pending")):
                row.next_attempt_at = None
    unit.session.expire_all()
    assert unit.session.scalar(select(Delivery.status)) == "sent"
    assert log.read_text().count("+84912000009") == 1


def test_an_invitation_is_sent_once_whether_the_member_or_the_rollout_comes_first(notify_db):
    unit, _ = notify_db
    first = {
        "member_id": 1,
        "full_name": "Lê Văn Một",
        "organization_id": 3,
        "organization_path": "/1/2/3/",
        "phone": "+84912000001",
        "status": "official",
    }
    later = {**first, "member_id": 2, "full_name": "Lê Văn Hai", "phone": "+84912000002"}
    with unit.transaction() as session:
        domain.project_member(session, first)
    live = {
        "type": "members.org_rollout_changed",
        "payload": {"organization_id": 2, "organization_path": "/1/2/", "state": "live"},
    }
    with unit.transaction() as session:  # the committee goes live: member 1 is invited
        domain.rollout_changed(session, live)
    with unit.transaction() as session:  # member 2 arrives afterwards: invited on arrival
        domain.project_member(session, later)
    with unit.transaction() as session:  # the rollout event delivered again: nothing new
        domain.invite_subtree(session, "/1/2/")
        domain.project_member(session, later)
    sent = sorted(d.destination for d in unit.session.scalars(select(Delivery)))
    assert sent == ["+84912000001", "+84912000002"]


def test_push_reaches_browsers_by_web_push_and_phones_by_fcm(notify_db, push_services):
    import base64
    import json as jsonlib
    import os as oslib

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from py_vapid import Vapid02

    from services.notify.channels import Push

    unit, database = notify_db
    base, log = push_services
    vapid = Vapid02()
    vapid.generate_keys()
    vapid_key = base64.urlsafe_b64encode(
        vapid.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    ).decode()
    browser_key = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    subscription = {
        "endpoint": f"{base}/push/subscription-1",
        "keys": {
            "p256dh": base64.urlsafe_b64encode(browser_key).decode().rstrip("="),
            "auth": base64.urlsafe_b64encode(oslib.urandom(16)).decode().rstrip("="),
        },
    }
    with unit.transaction() as session:
        domain.project_member(
            session,
            {
                "member_id": 5,
                "full_name": "Đỗ Thị Năm",
                "organization_id": 3,
                "organization_path": "/1/2/3/",
                "phone": None,
                "status": "official",
            },
        )
        domain.register_device(unit, 5, "web", jsonlib.dumps(subscription))
        domain.register_device(unit, 5, "android", "fcm-registration-token-5")
    with unit.transaction() as session:
        domain.notify_member(session, "event-push", 5, "transfer_issued")
    channels = {"push": Push(vapid_key, "mailto:ops@example.vn", f"{base}/fcm", "t0k3n")}
    assert send_batch(database, channels) == 2  # one delivery per device
    with unit.transaction() as session:  # a refused device is retried on its own
        session.expire_all()
        for row in session.scalars(select(Delivery).where(Delivery.status == "pending")):
            row.next_attempt_at = None
    send_batch(database, channels)
    unit.session.expire_all()
    assert {d.status for d in unit.session.scalars(select(Delivery).where(Delivery.channel.like("push:%")))} == {"sent"}
    received = [jsonlib.loads(line) for line in log.read_text().splitlines()]
    web = [r for r in received if r.get("path") == "/push/subscription-1"]
    assert len(web) == 1 and web[-1]["vapid"] and web[-1]["content_encoding"] == "aes128gcm" and web[-1]["bytes"] > 0
    fcm = [r for r in received if "message" in r]
    assert fcm[-1]["message"]["token"] == "fcm-registration-token-5"
    assert fcm[-1]["message"]["notification"]["title"] == "Giấy chuyển sinh hoạt đảng"


def test_operators_see_failures_with_their_reasons_but_not_the_text(notify_db):
    from services.notify.operations import summary

    unit, _ = notify_db
    with unit.transaction() as session:
        session.add(
            Delivery(
                event_id="e",
                member_id=3,
                channel="sms",
                priority=1,
                destination="+84912000003",
                text="Sổ tay: mã 123456",
                status="failed",
                attempts=5,
                last_error="sms gateway: HTTP 503",
            )
        )
    report = summary(unit.session)
    assert report["by_channel_and_status"] == {"sms/failed": 1}
    assert report["latest_failures"][0]["error"] == "sms gateway: HTTP 503"
    assert "123456" not in str(report)
