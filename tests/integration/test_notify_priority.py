"""A one-time code is not kept waiting by a large fan-out (real broker, notify in-process)."""

from nameko.amqp.publish import get_producer

from shared import config
from shared.db import standalone_unit
from shared.events import envelope
from shared.rpc import service_client
from shared.topology import events_exchange
from services.notify.models import Base, Recipient
from tests.support.notify import a_committee_goes_live, sms_sink
from tests.support.rabbit import queue_idle
from tests.support.waiting import wait_for

MEMBERS = 20_000


def test_a_code_goes_out_while_a_fan_out_is_still_sending(prepare, containers, settings):
    notify_cls = prepare("notify")
    containers(notify_cls)
    a_committee_goes_live(MEMBERS)
    wait_for(lambda: len(sms_sink()) > 0, message="the fan-out to start sending")
    with service_client("identity") as client:
        client.notify.send_otp({"to": "+84900000001", "text": "Sổ tay: mã 654321"})
    lines = wait_for(lambda: len(sms_sink()) >= MEMBERS + 1 and sms_sink(), timeout=120, message="every invitation")
    position = next(i for i, line in enumerate(lines) if line["to"] == "+84900000001")
    assert position < MEMBERS  # the code went out before the fan-out was done
    assert len({line["to"] for line in lines}) == MEMBERS + 1  # and nobody got the invitation twice


def test_a_redelivered_event_makes_no_second_message(prepare, containers, settings):
    notify_cls = prepare("notify")
    unit, database = standalone_unit(Base.metadata, "notify")
    with unit.transaction() as session:
        session.add(
            Recipient(
                member_id=8,
                full_name="Lê Văn Tám",
                organization_id=3,
                organization_path="/1/2/3/",
                status="official",
                phone="+84912000008",
                language="vi",
                activated=False,
                in_party=True,
            )
        )
    unit.close()
    database.engine.dispose()
    containers(notify_cls)
    event = envelope(
        "members.transfer_issued",
        {"transfer_id": 1, "member_id": 8, "kind": "official", "from_organization_id": 3, "to_organization_id": 4},
    )
    with get_producer(config.amqp_uri()) as producer:
        for _ in range(2):  # the broker redelivers, or an operator replays it
            producer.publish(
                event,
                exchange=events_exchange("members"),
                routing_key="members.transfer_issued",
                serializer="json",
                delivery_mode=2,
            )
    wait_for(lambda: [line for line in sms_sink() if line["to"] == "+84912000008"], message="the message")
    queue = "evt-members-transfer_issued--notify.on_transfer_issued"
    wait_for(lambda: queue_idle(config.amqp_uri(), queue), message="both deliveries handled")
    assert len([line for line in sms_sink() if line["to"] == "+84912000008"]) == 1
