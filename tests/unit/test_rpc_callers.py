"""Every RPC says who may call it: it is declared with the kit's `@query`/`@command` and a caller rule
(shared/kit.py). Anyone on the broker can send a request, so an RPC without one answers anyone (issue 8 item 8)."""

import inspect

import pytest
from nameko.rpc import Rpc

from shared import registry
from shared.kit import ANYONE, KitRpc
from shared.serve import service_class

SERVICES = registry.names()
# answers anyone, on purpose: what it returns is public
PUBLIC = {("identity", "jwks"), ("identity", "password_policy")}


def rpc_entrypoints(name):
    for method_name, method in inspect.getmembers(service_class(name), inspect.isfunction):
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, Rpc):
                yield method_name, entrypoint


@pytest.mark.parametrize("service", SERVICES)
def test_every_rpc_declares_who_may_call_it(service):
    undeclared = [name for name, entrypoint in rpc_entrypoints(service) if not isinstance(entrypoint, KitRpc)]
    assert not undeclared, (
        f"{service}: {undeclared} answer anyone on the broker; declare them with "
        f"@query(caller=…) or @command(caller=…) (shared/kit.py)"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_only_the_listed_rpcs_answer_anyone(service):
    public = {(service, name) for name, entrypoint in rpc_entrypoints(service) if entrypoint.caller_rule == ANYONE}
    assert public <= PUBLIC, f"{service}: {sorted(public - PUBLIC)} answer anyone; is what they return public?"
