"""One-time codes at rest in notify: never readable in its database, kept only while they may be sent."""

from datetime import timedelta

from sqlalchemy import select

from shared import config
from shared.db import standalone_unit, utcnow
from shared.rpc import service_client
from services.notify import domain
from services.notify.channels import FileSink, HttpSms
from services.notify.models import Base, Delivery
from services.notify.service import send_batch
from tests.support.waiting import free_port

CODE = "Sổ tay: mã kích hoạt của đồng chí là 654321, hiệu lực 5 phút."


def stored_bytes():
    """Every byte notify's SQLite database holds on disk (main file and write-ahead log)."""
    return b"".join(path.read_bytes() for path in config.data_dir().glob("notify.db*"))


def sink_lines():
    path = config.data_dir() / "outbox" / "sms.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_a_code_sent_at_once_never_reaches_the_database_in_clear(prepare, containers, settings):
    containers(prepare("notify"))
    with service_client("identity") as client:
        assert client.notify.send_otp({"to": "+84900000001", "text": CODE})["status"] == "sent"
    assert any("654321" in line for line in sink_lines())
    unit, database = standalone_unit(Base.metadata, "notify")
    row = unit.session.scalar(select(Delivery).where(Delivery.event_id.like("otp:%")))
    assert (row.status, row.text, row.sealed) == ("sent", "", True)  # erased once sent
    unit.close()
    database.engine.dispose()
    assert b"654321" not in stored_bytes()


def test_an_interrupted_code_is_sealed_and_retried_while_valid(notify_db):
    unit, database = notify_db
    with unit.transaction() as session:
        delivery_id = domain.code_delivery(session, "r1", "+84900000002", CODE, utcnow() + timedelta(minutes=5)).id
    unreachable = {"sms": HttpSms(f"http://127.0.0.1:{free_port()}/messages", timeout=1)}
    with unit.transaction() as session:
        domain.record_outcomes(session, [(delivery_id, "sms gateway: ConnectionError")])
        session.get(Delivery, delivery_id).next_attempt_at = utcnow()
    row = unit.session.get(Delivery, delivery_id)
    assert row.status == "pending" and "654321" not in row.text and row.text  # kept, sealed
    assert send_batch(database, unreachable) == 1  # still failing: kept sealed
    unit.session.expire_all()
    assert unit.session.get(Delivery, delivery_id).status == "pending"
    with unit.transaction() as session:
        session.get(Delivery, delivery_id).next_attempt_at = utcnow()
    assert send_batch(database, {"sms": FileSink("sms")}) == 1  # the channel is back
    assert [line for line in sink_lines() if "654321" in line]
    unit.session.expire_all()
    row = unit.session.get(Delivery, delivery_id)
    assert (row.status, row.text) == ("sent", "")
    assert b"654321" not in stored_bytes()


def test_a_code_that_expired_while_waiting_is_erased_and_never_sent(notify_db):
    unit, database = notify_db
    with unit.transaction() as session:
        delivery = domain.code_delivery(session, "r2", "+84900000003", CODE, utcnow() + timedelta(minutes=5))
        delivery.status, delivery.next_attempt_at = "pending", utcnow()
        delivery_id = delivery.id
    with unit.transaction() as session:  # five minutes later
        session.get(Delivery, delivery_id).expires_at = utcnow() - timedelta(seconds=1)
    assert send_batch(database, {"sms": FileSink("sms")}) == 0
    unit.session.expire_all()
    row = unit.session.get(Delivery, delivery_id)
    assert (row.status, row.text) == ("expired", "")
    assert not sink_lines()


def test_a_code_left_in_sending_by_a_crash_is_erased_when_it_expires(notify_db):
    unit, database = notify_db
    with unit.transaction() as session:  # the process died between storing and sending it
        delivery_id = domain.code_delivery(session, "r3", "+84900000004", CODE, utcnow() - timedelta(seconds=1)).id
    assert send_batch(database, {"sms": FileSink("sms")}) == 0
    unit.session.expire_all()
    assert unit.session.get(Delivery, delivery_id).text == ""


def test_the_development_sms_sink_is_private(database_settings):
    FileSink("sms").send("+84900000005", None, CODE)
    sink = config.data_dir() / "outbox" / "sms.jsonl"
    assert oct(sink.stat().st_mode & 0o777) == "0o600"
    assert oct(sink.parent.stat().st_mode & 0o777) == "0o700"
