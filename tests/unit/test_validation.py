"""The checks every JSON body passes (shared/validation.py, shared/http.read_json): what used to be a 500."""

import pytest
from marshmallow import Schema
from werkzeug.test import EnvironBuilder

from shared.contracts.meetings import CheckInIn
from shared.contracts.members import TransferRequest
from shared.errors import BadRequest, ValidationError
from shared.http import LimitedRequest, read_json
from shared.validation import MAX_DEPTH, StoredInteger, check, instance, load, refuse_unstorable


def request_with(raw):
    return LimitedRequest(EnvironBuilder(method="POST", data=raw, content_type="application/json").get_environ())


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,  # json.loads: RecursionError
        b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
        b'{"password": NaN}',
        b'{"n": Infinity}',
        b'{"n": -Infinity}',
    ],
)
def test_bodies_json_cannot_hold_are_a_400(raw):
    with pytest.raises(BadRequest):
        read_json(request_with(raw))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"password": "\\ud800"}',
        b'{"note": "a\\udfffb"}',
        b'{"\\ud800": 1}',
        b'{"name": "nul\\u0000"}',
        b'{"items": [{"token": "\\udc00"}]}',
        b'{"organization_id": 9223372036854775808}',
        b'{"organization_id": -9223372036854775809}',
        b'{"a": [[[1, 100000000000000000000000000000]]]}',
        b'{"a": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}",
    ],
)
def test_values_no_service_can_store_are_a_400(raw):
    with pytest.raises(ValidationError):
        read_json(request_with(raw))


def test_ordinary_bodies_pass_untouched():
    body = {
        "citizen_id": "001000000002",
        "password": "Hoa sen nở giữa đầm 🌸 2026",
        "n": 2**63 - 1,
        "m": -(2**63),
        "deep": [[[{"ok": True, "x": None, "f": 1.5}]]],
    }
    assert refuse_unstorable(body) is body


class Target(Schema):
    id = StoredInteger(required=True)


@pytest.mark.parametrize("value", [1e30, 2**63, -(2**63) - 1, "9" * 30, 1.5, float("inf"), float("nan"), True, "x"])
def test_stored_integers_refuse_what_no_column_holds(value):
    with pytest.raises(ValidationError) as refused:
        load(Target(), {"id": value})
    assert "id" in refused.value.details


@pytest.mark.parametrize(
    "value, expected", [(7, 7), ("42", 42), (3.0, 3), (2**63 - 1, 2**63 - 1), (-(2**63), -(2**63))]
)
def test_stored_integers_take_what_a_column_holds(value, expected):
    assert load(Target(), {"id": value}) == {"id": expected}


def test_services_refuse_the_same_values_over_rpc():
    """The owning service validates again with the same schema: 1e30 never reaches a query."""
    with pytest.raises(ValidationError):
        load(TransferRequest(), {"to_organization_id": 1e30})
    with pytest.raises(ValidationError):
        check(TransferRequest(), {"to_organization_id": 1, "note": "\ud800"})


def test_one_schema_instance_serves_every_call_alike():
    """The kit and the outbox reuse one instance per schema class: a refused body leaves nothing behind for the
    next call, and a good one loads the same after a bad one as before it."""
    schema = instance(CheckInIn)
    assert instance(CheckInIn) is schema
    good = load(schema, {"code": "123456"})
    with pytest.raises(ValidationError) as refused:
        load(schema, {"code": "12345x", "member_id": "two"})
    assert set(refused.value.details) == {"code", "member_id"}
    assert load(schema, {"code": "123456"}) == good
    with pytest.raises(ValidationError) as again:
        load(schema, {"at": "yesterday"})
    assert set(again.value.details) == {"at"}
