"""The service kit: the base every service class extends and the two RPC decorators.

    class NotifyService(Service):
        name = "notify"
        db = Database(Base.metadata)

        @query(caller=MEMBER, params=InboxQuery)
        def list_inbox(self, session, principal, data):
            return domain.inbox(session, principal.member_id, **data)

        @command(caller=services("identity"), body=SecurityNotice)
        def send_security_notice(self, unit, principal, data):
            return domain.security_notice(unit, data)

`@query(caller=…, params=Schema)` and `@command(caller=…, body=Schema)` make the method an RPC that
1. authenticates its caller by the rule named (before anything else: a stranger learns nothing, not even
   that a body is malformed): `MEMBER` (a signed-in member's access token, verified here), `services("a", …)`
   (a service token of one of those services), `member_through("gateway")` (both: a member's request relayed by
   that service and no other), `ANYONE` (public: only for what is published anyway, such as signing keys);
2. loads the method's argument named `data` through the schema (our 400 `validation_error` with details);
3. opens the service's database: a reading session for a query (rolled back at the end: a query writes
   nothing), the unit of work inside one transaction for a command (commit on success, rollback on error,
   except for `commit_on` errors, which are answers that must be recorded: a refused sign-in is audited);
4. calls `method(self, session_or_unit, principal, *the RPC's own arguments)`: a session for a query, the unit
   for a command; `principal` is the member (shared.auth.Principal) for member rules, the calling service's
   name for `services(…)`, None for ANYONE. The RPC's wire signature is the method's without the first two.

A command that must commit in steps (a password hash before it takes SQLite's single writer; a code stored,
handed to the channel, then its outcome recorded) says `in_steps=True`: it gets the unit with no transaction
open and opens its own. So does a query that asks another service after reading (a meeting's paper): no session
stays open while the other answers.

Where authorisation lives: the kit authenticates (who is calling, for which service); the domain of the service
that owns the data authorises (what this principal may do with this data), because only the domain has the data.
A method is a line or two that hands the domain its arguments: a command's domain function receives the unit of
work (it may publish), a query's a session. The lost-connection retry of shared/entrypoints.py comes with both.
"""

import functools
import inspect
from contextlib import contextmanager
from dataclasses import dataclass

from shared.auth import Caller
from shared.entrypoints import RetriedRpc
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.validation import instance, load


@dataclass(frozen=True)
class CallerRule:
    """Who may call an RPC: a signed-in member, named services, both, or anyone."""

    member: bool = False
    services: tuple = ()

    def authenticate(self, caller):
        service = caller.require_service(*self.services) if self.services else None
        return caller.require() if self.member else service


MEMBER = CallerRule(member=True)
ANYONE = CallerRule()


def services(*names):
    return CallerRule(services=tuple(names))


def member_through(*names):
    """A member's request relayed by one of these services (their own token and the service's both)."""
    return CallerRule(member=True, services=tuple(names))


class KitRpc(RetriedRpc):
    """The RPC entrypoint of `@query`/`@command`: it carries its caller rule for the tests to read."""

    def __init__(self, caller_rule, **kwargs):
        self.caller_rule = caller_rule
        super().__init__(**kwargs)


@contextmanager
def _reading(db, commit_on):
    with db.reading() as session:
        yield session


@contextmanager
def _transaction(db, commit_on):
    with db.transaction(commit_on=commit_on):
        yield db


@contextmanager
def _unit(db, commit_on):
    yield db


def _entrypoint(caller, schema, opens, commit_on=()):
    if not isinstance(caller, CallerRule):
        raise TypeError(f"caller= takes MEMBER, ANYONE, services(…) or member_through(…), not {caller!r}")

    def decorate(method):
        parameters = list(inspect.signature(method).parameters.values())
        wire = inspect.Signature([parameters[0], *parameters[3:]])
        if schema is not None and "data" not in wire.parameters:
            raise TypeError(f"{method.__name__}: a schema is given, so the method takes an argument named `data`")

        @functools.wraps(method)
        def entrypoint(self, *args, **kwargs):
            principal = caller.authenticate(self.caller)
            bound = wire.bind(self, *args, **kwargs)
            bound.apply_defaults()
            if schema is not None:
                bound.arguments["data"] = load(instance(schema), bound.arguments["data"])
            with opens(self.db, commit_on) as handle:
                return method(self, handle, principal, *bound.args[1:], **bound.kwargs)

        del entrypoint.__wrapped__  # nameko checks a call against the wire signature, not the method's
        entrypoint.__signature__ = wire
        return KitRpc.decorator(caller_rule=caller)(entrypoint)

    return decorate


def query(caller, params=None, in_steps=False):
    """A read-only RPC: `method(self, session, principal, …)` in a reading session (or, `in_steps`, with the unit
    alone: the method reads in its own sessions, none open while it asks another service)."""
    return _entrypoint(caller, params, _unit if in_steps else _reading)


def command(caller, body=None, commit_on=(), in_steps=False):
    """An RPC that changes something: `method(self, unit, principal, …)` inside one transaction
    (or, `in_steps`, with the unit alone: the method opens its transactions)."""
    return _entrypoint(caller, body, _unit if in_steps else _transaction, commit_on)


class Service(Operations):
    """The base of every service class: /health, /metrics, the verified caller, telemetry.
    A subclass sets `name` and `db = Database(Base.metadata)`."""

    caller = Caller()
    telemetry = Telemetry()
