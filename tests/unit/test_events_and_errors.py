import json

import pytest
from marshmallow import ValidationError as SchemaError
from nameko.exceptions import RemoteError

from shared import errors, events
from shared.topology import Subscription

SNAPSHOT = {
    "member_id": 1,
    "citizen_id": "001000000002",
    "full_name": "Lê Văn Hùng",
    "date_of_birth": "1985-05-19",
    "status": "official",
    "organization_id": 38,
    "organization_path": "/1/2/38/",
    "phone": None,
}


def test_an_envelope_carries_id_type_version_time_producer_and_correlation():
    envelope = events.envelope("members.member_created", SNAPSHOT, correlation_id="abc")
    assert set(envelope) == {"id", "type", "version", "occurred_at", "producer", "correlation_id", "payload"}
    assert envelope["producer"] == "members"
    assert events.check_envelope(json.loads(json.dumps(envelope))) == {}


def test_payloads_are_checked_against_the_catalogue():
    events.validate_payload("members.member_created", SNAPSHOT)
    with pytest.raises(SchemaError):
        events.validate_payload("members.member_created", {**SNAPSHOT, "citizen_id": "12"})
    with pytest.raises(events.UnknownEventType):
        events.validate_payload("members.member_vanished", SNAPSHOT)


def test_a_malformed_envelope_is_recognised():
    assert events.check_envelope({"type": "x"})
    assert events.check_envelope("not a dict")


def test_the_quick_check_of_an_envelope_never_passes_one_the_schema_refuses():
    good = json.loads(json.dumps(events.envelope("members.member_created", SNAPSHOT, correlation_id="abc")))
    variants = [
        good,
        {**good, "correlation_id": None},
        {k: v for k, v in good.items() if k != "correlation_id"},
        {**good, "occurred_at": "2026-11-26T09:00:00"},  # naive: the schema's DateTime takes it too
    ]
    broken = [
        {k: v for k, v in good.items() if k != "payload"},
        {**good, "extra": 1},
        {**good, "id": "not-a-uuid"},
        {**good, "id": 7},
        {**good, "version": "1"},  # the schema may take a string; the quick check leaves it to the schema
        {**good, "version": True},
        {**good, "occurred_at": "yesterday"},
        {**good, "payload": []},
        {**good, "correlation_id": 5},
        {**good, "type": None},
    ]
    schema = events.Envelope()
    for body in variants:
        assert events._plainly_well_formed(body) and events.check_envelope(body) == {} == schema.validate(body)
    for body in broken:
        assert not events._plainly_well_formed(body)
        assert events.check_envelope(body) == schema.validate(body)
    assert events.check_envelope({**good, "id": "not-a-uuid"}) == {"id": ["Not a valid UUID."]}


def test_subscription_queue_names_follow_the_topology():
    subscription = Subscription("members", "members.member_created", "identity", "on_member_created")
    assert subscription.queue_name == "evt-members-member_created--identity.on_member_created"
    assert subscription.dlq_name.endswith(".dlq")
    assert subscription.retry_queue_name(2).endswith(".backoff.2")


def test_errors_cross_rpc_and_come_back_as_the_same_type():
    original = errors.TooManyAttempts(details={"retry_after": 30}, headers={"Retry-After": "30"})
    remote = RemoteError("TooManyAttempts", str(original))
    rebuilt = errors.from_remote(remote)
    assert isinstance(rebuilt, errors.TooManyAttempts)
    assert rebuilt.status == 429 and rebuilt.headers == {"Retry-After": "30"}
    assert rebuilt.as_json()["error"]["code"] == "too_many_attempts"
    assert errors.from_remote(RemoteError("KeyError", "x")) is None


def test_a_services_own_error_comes_back_as_its_type_too():
    from shared.contracts.identity import InvalidCredentials

    rebuilt = errors.from_remote(RemoteError("InvalidCredentials", str(InvalidCredentials())))
    assert isinstance(rebuilt, InvalidCredentials) and rebuilt.status == 401


def test_every_error_a_service_raises_is_registered_to_cross_rpc():
    import ast
    import pathlib

    for path in pathlib.Path(errors.__file__).parents[1].glob("services/*/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") == "SotayError" for b in node.bases):
                raise AssertionError(
                    f"{path}: {node.name} must live in its service's contract (shared/contracts/) to cross RPC"
                )


def test_an_unreachable_dependency_is_an_outage_a_bug_or_bad_input_is_not():
    from kombu.exceptions import OperationalError as BrokerError
    from nameko.exceptions import UnknownService
    from sqlalchemy.exc import OperationalError as DatabaseError

    from shared.errors import ServiceUnavailable, ValidationError, is_outage

    for outage in (
        ServiceUnavailable(),
        UnknownService("members"),
        BrokerError("connection reset"),
        DatabaseError("SELECT 1", {}, Exception("terminating connection")),
        ConnectionRefusedError(),
    ):
        assert is_outage(outage), outage
    for failure in (ValidationError(), KeyError("member_id"), RuntimeError("a bug")):
        assert not is_outage(failure), failure


def test_a_batch_is_claimed_once_each_in_order_repeats_and_earlier_claims_skipped(tmp_path):
    from sqlalchemy import MetaData, create_engine

    from shared.db import Database, UnitOfWork
    from shared.messaging_tables import outbox_table, processed_event_table

    metadata = MetaData()
    outbox_table(metadata)
    processed_event_table(metadata)
    database = Database(metadata)
    database.use_engine(create_engine(f"sqlite:///{tmp_path}/claims.db"))
    metadata.create_all(database.engine)
    first, second, third = (events.envelope("members.member_erased", {"member_id": n}) for n in (1, 2, 3))
    applied = []

    def apply(session, envelope):
        applied.append(envelope["payload"]["member_id"])

    unit = UnitOfWork(database, "tally.on_member_erased", {})
    unit.once(second, apply)
    unit.once_each([first, second, third, first], apply)
    unit.once_each([third, second], apply)
    assert applied == [2, 1, 3]
    unit.close()
    database.engine.dispose()
