"""Another system subscribes to members' events with a plain AMQP client (pika), no nameko."""

import json

import pika

from shared import config
from shared.db import standalone_unit
from services.members import seed
from services.members.models import Base as MembersBase
from tests.support.waiting import wait_for


def test_an_external_system_receives_member_events_in_the_documented_envelope(prepare, containers):
    members_cls = prepare("members")  # declares the members.events exchange
    connection = pika.BlockingConnection(pika.URLParameters(config.amqp_uri()))
    channel = connection.channel()
    channel.exchange_declare("members.events", passive=True)
    channel.queue_declare("crm.members", durable=True)
    channel.queue_bind("crm.members", "members.events", routing_key="members.#")

    uow, database = standalone_unit(MembersBase.metadata, "members")
    with uow.transaction():
        seed.seed(uow)
    uow.close()
    database.engine.dispose()
    containers(members_cls)

    received = []

    def drain():
        while True:
            method, properties, body = channel.basic_get("crm.members", auto_ack=True)
            if method is None:
                break
            received.append((method, properties, json.loads(body)))
        return sum(1 for _, _, e in received if e["type"] == "members.member_created") == 15

    wait_for(drain, message="15 member_created events at the external queue")
    method, properties, event = next(r for r in received if r[2]["type"] == "members.member_created")
    assert method.routing_key == "members.member_created"
    assert properties.content_type == "application/json" and properties.delivery_mode == 2
    assert properties.message_id == event["id"]
    assert set(event) == {"id", "type", "version", "occurred_at", "producer", "correlation_id", "payload"}
    assert event["producer"] == "members" and event["occurred_at"].endswith("+00:00")
    assert {"member_id", "citizen_id", "full_name", "organization_path"} <= set(event["payload"])
    connection.close()
