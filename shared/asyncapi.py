"""The event catalogue as an AsyncAPI 2.6 document, for systems that subscribe."""
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.contracts import catalogue
from shared.events import Envelope, producer_of


def document():
    plugin = MarshmallowPlugin()
    APISpec(title="events", version="1", openapi_version="3.0.3", plugins=[plugin])
    converter = plugin.converter
    channels = {}
    for event_type, (schema, description) in sorted(catalogue().items()):
        envelope = converter.schema2jsonschema(Envelope)
        envelope["properties"]["payload"] = converter.schema2jsonschema(schema)
        channels[f"{producer_of(event_type)}.events/{event_type}"] = {
            "description": f"Topic exchange `{producer_of(event_type)}.events`, routing key `{event_type}`.",
            "subscribe": {"message": {"name": event_type, "summary": description,
                                      "contentType": "application/json", "payload": envelope}},
        }
    return {
        "asyncapi": "2.6.0",
        "info": {"title": "Sổ tay events", "version": "1.0.0",
                 "description": "Facts published by Sổ tay services. Bind a durable queue to "
                                "`<service>.events` with the event type as routing key; handle "
                                "each envelope id at most once (delivery is at least once)."},
        "defaultContentType": "application/json",
        "servers": {"broker": {"url": "{host}:5672", "protocol": "amqp", "protocolVersion": "0-9-1",
                               "variables": {"host": {"default": "localhost"}}}},
        "channels": channels,
    }
