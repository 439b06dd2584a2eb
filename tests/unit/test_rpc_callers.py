"""Every RPC says who may call it: an end user (`self.caller.require()`, or `self._actor(…)` in members)
or named services (`self.caller.require_service(…)`). Anyone on the broker can send a request, so an RPC
without one of these answers anyone (issue 8 item 8)."""
import inspect

import pytest
from nameko.rpc import Rpc

from shared import registry
from shared.serve import service_class

# answers anyone, on purpose: what it returns is public
PUBLIC = {("identity", "jwks")}
CHECKS = ("self.caller.require(", "self.caller.require_service(", "self._actor(", "self._importer(")


def rpc_methods(name):
    cls = service_class(name)
    for method_name, method in inspect.getmembers(cls, inspect.isfunction):
        if any(isinstance(entrypoint, Rpc) for entrypoint in getattr(method, "nameko_entrypoints", ())):
            yield method_name, method


@pytest.mark.parametrize("service", registry.names())
def test_every_rpc_names_who_may_call_it(service):
    unchecked = [name for name, method in rpc_methods(service)
                 if (service, name) not in PUBLIC and not any(check in inspect.getsource(method) for check in CHECKS)]
    assert not unchecked, (f"{service}: {unchecked} answer anyone on the broker; add "
                           f"self.caller.require() (a member) or self.caller.require_service(\"<caller>\", …)")
