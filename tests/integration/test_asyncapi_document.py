"""The event document is valid AsyncAPI 3.0, AMQP bindings included, by the AsyncAPI initiative's own JSON
Schemas (the npm package @asyncapi/specs, pinned in tests/support/asyncapi_specs/)."""

import json
from pathlib import Path

import jsonschema

from shared.asyncapi import document
from tests.support.node_packages import install

PROJECT = Path(__file__).resolve().parents[1] / "support" / "asyncapi_specs"


def test_the_event_document_is_valid_asyncapi():
    spec = document()
    schemas = install(PROJECT, "@asyncapi/specs") / "node_modules" / "@asyncapi" / "specs" / "schemas"
    official = json.loads((schemas / f"{spec['asyncapi']}-without-$id.json").read_text())
    errors = sorted(jsonschema.Draft7Validator(official).iter_errors(spec), key=lambda e: list(e.absolute_path))
    assert not errors, [(list(e.absolute_path), e.message[:200]) for e in errors[:10]]
