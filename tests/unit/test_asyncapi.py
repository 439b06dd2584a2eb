"""The AsyncAPI document of the event catalogue: a channel per event type on the exchange the topology declares,
and JSON Schema (never OpenAPI's `nullable`) for every envelope and payload."""

import json

import jsonschema
import pytest

from shared.asyncapi import document
from shared.contracts import catalogue
from shared.events import envelope, producer_of
from shared.topology import events_exchange

SNAPSHOT = {
    "member_id": 1,
    "citizen_id": "001000000002",
    "full_name": "Lê Văn Hùng",
    "date_of_birth": None,
    "status": "official",
    "organization_id": 38,
    "organization_path": "/1/2/38/",
    "phone": None,
    "email": None,
    "activated": False,
}


def message_schema(spec, event_type):
    (channel,) = [c for c in spec["channels"].values() if c["address"] == event_type]
    (reference,) = channel["messages"].values()
    return spec["components"]["messages"][reference["$ref"].rsplit("/", 1)[1]]["payload"]


def test_every_event_type_is_a_channel_on_the_exchange_its_producer_declares():
    spec = document()
    assert spec["asyncapi"].startswith("3.")
    assert sorted(c["address"] for c in spec["channels"].values()) == sorted(catalogue())
    for channel in spec["channels"].values():
        binding, exchange = channel["bindings"]["amqp"], events_exchange(producer_of(channel["address"]))
        assert binding["is"] == "routingKey"
        assert (binding["exchange"]["name"], binding["exchange"]["type"], binding["exchange"]["durable"]) == (
            exchange.name,
            exchange.type,
            exchange.durable,
        )
    assert {o["action"] for o in spec["operations"].values()} == {"send"}


def test_a_field_that_may_be_null_is_a_json_schema_type_list_never_openapis_nullable():
    spec = document()
    assert '"nullable"' not in json.dumps(spec)
    payload = message_schema(spec, "members.member_created")["properties"]["payload"]
    assert payload["properties"]["phone"]["type"] == ["string", "null"]
    assert payload["properties"]["member_id"]["type"] == "integer"
    for event_type in catalogue():
        jsonschema.Draft7Validator.check_schema(message_schema(spec, event_type))


@pytest.mark.parametrize(
    "change, valid",
    [
        ({}, True),
        ({"phone": "+84912345678"}, True),
        ({"phone": 912345678}, False),
        ({"religion": "x"}, False),
        ({"citizen_id": "12"}, False),
    ],
)
def test_an_envelope_as_a_service_publishes_it_matches_its_message(change, valid):
    schema = message_schema(document(), "members.member_updated")
    event = json.loads(json.dumps(envelope("members.member_updated", {**SNAPSHOT, **change}, correlation_id="c")))
    errors = list(jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(event))
    assert (errors == []) is valid, errors


def test_an_envelope_of_another_type_does_not_pass_for_this_one():
    schema = message_schema(document(), "members.member_created")
    event = json.loads(json.dumps(envelope("members.member_updated", SNAPSHOT)))
    assert not jsonschema.Draft7Validator(schema).is_valid(event)
