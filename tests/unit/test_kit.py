"""The service kit's RPC decorators (shared/kit.py), without a broker or a database: who is asked for first,
what the method receives, and the signature callers see."""

import inspect
from contextlib import contextmanager

import pytest
from marshmallow import RAISE, Schema, fields

from shared.auth import Principal
from shared.errors import Forbidden, Unauthenticated, ValidationError
from shared.kit import MEMBER, command, member_through, query, services

ALICE = Principal(member_id=7, citizen_id="001000000007", session_id="s-1")


class Note(Schema):
    class Meta:
        unknown = RAISE

    text = fields.String(required=True)


class Caller:
    def __init__(self, member=None, service=None):
        self.member, self.service = member, service

    def require(self):
        if self.member is None:
            raise Unauthenticated()
        return self.member

    def require_service(self, *names):
        if self.service not in names:
            raise Forbidden()
        return self.service


class Unit:
    """What a command is handed: the unit of work, its transaction open while the method runs."""

    def __init__(self):
        self.opened, self.committed = [], False
        self.session = "reading session"

    @contextmanager
    def transaction(self, commit_on=()):
        self.opened.append(("transaction", commit_on))
        yield self.session
        self.committed = True

    @contextmanager
    def reading(self):
        self.opened.append(("reading", None))
        yield self.session


class Notes:
    def __init__(self, caller):
        self.caller, self.db = caller, Unit()

    @command(caller=MEMBER, body=Note, commit_on=(Forbidden,))
    def add(self, unit, principal, folder, data):
        return unit, principal, folder, data

    @query(caller=services("gateway"))
    def count(self, session, principal, folder, limit=10):
        return session, principal, folder, limit

    @command(caller=member_through("gateway"), in_steps=True)
    def export(self, unit, principal):
        return unit.opened


def test_a_command_gets_the_unit_in_a_transaction_the_member_and_its_body_loaded():
    notes = Notes(Caller(member=ALICE))
    unit, principal, folder, data = notes.add("inbox", {"text": "xin chào"})
    assert (unit, principal, folder, data) == (notes.db, ALICE, "inbox", {"text": "xin chào"})
    assert notes.db.opened == [("transaction", (Forbidden,))] and notes.db.committed


def test_a_query_gets_a_reading_session_and_the_calling_service():
    notes = Notes(Caller(service="gateway"))
    assert notes.count("inbox") == ("reading session", "gateway", "inbox", 10)
    assert notes.db.opened == [("reading", None)]


def test_a_stranger_learns_nothing_not_even_that_the_body_is_wrong():
    notes = Notes(Caller())
    with pytest.raises(Unauthenticated):
        notes.add("inbox", {"unknown": 1})
    assert notes.db.opened == []


def test_a_bad_body_is_a_validation_error_before_the_database_is_opened():
    notes = Notes(Caller(member=ALICE))
    with pytest.raises(ValidationError) as refused:
        notes.add("inbox", {"text": "x", "unknown": 1})
    assert "unknown" in refused.value.details and notes.db.opened == []


def test_a_member_through_a_service_needs_both():
    assert Notes(Caller(member=ALICE, service="gateway")).export() == []  # in steps: nothing opened for it
    with pytest.raises(Forbidden):
        Notes(Caller(member=ALICE, service="notify")).export()
    with pytest.raises(Unauthenticated):
        Notes(Caller(service="gateway")).export()


def test_callers_see_the_rpc_signature_without_session_and_principal():
    # what nameko checks a call against (Entrypoint.check_signature)
    assert inspect.getcallargs(Notes.add, None, "inbox", {"text": "x"}) == {
        "self": None,
        "folder": "inbox",
        "data": {"text": "x"},
    }
    with pytest.raises(TypeError):
        inspect.getcallargs(Notes.count, None)
    assert [entrypoint.caller_rule for entrypoint in Notes.export.nameko_entrypoints] == [member_through("gateway")]


def test_a_call_with_arguments_its_method_does_not_take_is_refused_as_nameko_refuses_it():
    from types import SimpleNamespace

    from nameko.exceptions import IncorrectSignature

    from shared.entrypoints import KeptSignature

    class Service:
        def schedule(self, organization_id, meeting, notify=True):
            pass

    entrypoint = KeptSignature()
    entrypoint.container, entrypoint.method_name = SimpleNamespace(service_cls=Service), "schedule"
    entrypoint.check_signature((3,), {"meeting": {}})
    entrypoint.check_signature((3, {}, False), {})
    for args, kwargs in (((), {}), ((3,), {"meting": {}}), ((3, {}, True, 4), {})):
        with pytest.raises(IncorrectSignature):
            entrypoint.check_signature(args, kwargs)
