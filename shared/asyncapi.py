"""The event catalogue as an AsyncAPI 3.0 document, for systems that subscribe.

One channel per event type: its address is the routing key on the producer's topic exchange (AMQP
bindings as shared/topology.py declares them), its message the envelope with that event's payload.
Schemas are JSON Schema (draft 7, what AsyncAPI schemas extend): a field that may be null has
`type: [<type>, "null"]`, never OpenAPI's `nullable`.
"""

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.contracts import catalogue
from shared.events import Envelope, producer_of
from shared.topology import UNROUTED, events_exchange

AMQP_BINDINGS = "0.3.0"
PERSISTENT = 2


def _converter():
    plugin = MarshmallowPlugin()
    # OpenAPI 3.1's schemas are JSON Schema: apispec then writes nullable fields as type lists
    APISpec(title="events", version="1", openapi_version="3.1.0", plugins=[plugin])
    return plugin.converter


def _inlined(converter, schema):
    """`schema` with every nested schema written in place: a message's payload stands alone (a subscriber
    validates it without the rest of the document)."""
    components = converter.spec.to_dict().get("components", {}).get("schemas", {})

    def inline(value):
        if isinstance(value, dict):
            reference = value.get("$ref", "")
            if reference.startswith("#/components/schemas/"):
                return inline(components[reference.rsplit("/", 1)[1]])
            return {key: inline(item) for key, item in value.items()}
        if isinstance(value, list):
            return [inline(item) for item in value]
        return value

    return inline(schema)


def _channel_id(event_type):
    return event_type.replace(".", "_")


def message(converter, event_type, event):
    envelope = converter.schema2jsonschema(Envelope)
    envelope["properties"].update(
        type={"type": "string", "const": event_type},
        producer={"type": "string", "const": producer_of(event_type)},
        version={"type": "integer", "const": 1},
        payload=_inlined(converter, converter.schema2jsonschema(event.schema)),
    )
    return {
        "name": event_type,
        "title": event_type,
        "summary": event.summary,
        "contentType": "application/json",
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "headers": {"type": "object", "properties": {"nameko.correlation_id": {"type": "string"}}},
        "payload": envelope,
        "bindings": {"amqp": {"messageType": event_type, "bindingVersion": AMQP_BINDINGS}},
    }


def channel(event_type):
    exchange = events_exchange(producer_of(event_type))
    return {
        "address": event_type,
        "title": event_type,
        "description": (
            f"Routing key `{event_type}` on the topic exchange `{exchange.name}` (durable; what no "
            f"queue takes goes to its alternate exchange `{UNROUTED}`). Subscribe with a durable "
            f"queue of your own bound to it (the suite's own are named "
            f"`evt-{producer_of(event_type)}-{event_type.split('.', 1)[1]}--<service>.<handler>`)."
        ),
        "messages": {_channel_id(event_type): {"$ref": f"#/components/messages/{_channel_id(event_type)}"}},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {
                    "name": exchange.name,
                    "type": exchange.type,
                    "durable": exchange.durable,
                    "autoDelete": exchange.auto_delete,
                    "vhost": "/",
                },
                "bindingVersion": AMQP_BINDINGS,
            }
        },
    }


def document():
    converter = _converter()
    events = sorted(catalogue().items())
    channels = {_channel_id(event_type): channel(event_type) for event_type, _ in events}
    operations = {
        f"publish_{_channel_id(event_type)}": {
            "action": "send",
            "channel": {"$ref": f"#/channels/{_channel_id(event_type)}"},
            "summary": event.summary,
            "messages": [{"$ref": f"#/channels/{_channel_id(event_type)}/messages/{_channel_id(event_type)}"}],
            "bindings": {"amqp": {"deliveryMode": PERSISTENT, "bindingVersion": AMQP_BINDINGS}},
        }
        for event_type, event in events
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Sổ tay events",
            "version": "1.0.0",
            "description": "Facts published by Sổ tay services, each in the envelope `{id, type, version, "
            "occurred_at, producer, correlation_id, payload}`. Bind a durable queue to "
            "`<service>.events` with the event type as routing key; handle each envelope id "
            "at most once (delivery is at least once, from each service's outbox). The AMQP "
            "message id is the envelope id, its type the event type.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "localhost:5672",
                "protocol": "amqp",
                "protocolVersion": "0-9-1",
                "description": "The suite's RabbitMQ (AMQP_URI).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {_channel_id(event_type): message(converter, event_type, event) for event_type, event in events}
        },
    }
