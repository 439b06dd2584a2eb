"""The RPC entrypoint under the kit's `@query`/`@command` (shared/kit.py): a lost database connection costs a
retry, never a 500.

When a worker fails because its database connection was lost (`db.lost_connection`) and nothing it
did was committed — a read, or a transaction that rolled back entirely — it runs once more, on a
fresh connection (the pool pre-pings what it hands out), before the caller gets an answer. Otherwise,
or when the second run loses its connection too, the caller gets `ServiceUnavailable` (503).
"""

import inspect
import logging
import sys

from nameko.exceptions import ContainerBeingKilled, IncorrectSignature
from nameko.rpc import Rpc

from shared.db import UnitOfWork, lost_connection
from shared.errors import ServiceUnavailable
from shared.rpc import RequestConsumer

log = logging.getLogger(__name__)


def _safe_to_repeat(worker_ctx):
    units = [value for value in vars(worker_ctx.service).values() if isinstance(value, UnitOfWork)]
    return not any(unit.committed for unit in units)


def _unavailable():
    try:
        raise ServiceUnavailable(details={"reason": "database"})
    except ServiceUnavailable:
        return sys.exc_info()


class KeptSignature:
    """nameko checks each call's arguments against its method with `inspect.getcallargs`, which builds the method's
    signature again every time (13 µs warm, 5 % of the gateway's CPU per 304); kept once per entrypoint it is a bind
    (3 µs). Mixed into every RPC and HTTP entrypoint of the suite."""

    _signature = None

    def check_signature(self, args, kwargs):
        if self._signature is None:
            self._signature = inspect.signature(getattr(self.container.service_cls, self.method_name))
        try:
            self._signature.bind(None, *args, **kwargs)  # None: the method is unbound, as in nameko's check
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None


class RetriedRpc(KeptSignature, Rpc):
    rpc_consumer = RequestConsumer()  # replies without a publisher confirm (shared/rpc.py)

    def setup(self):
        super().setup()
        self._retried = set()  # requests (their messages) already run a second time

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None and lost_connection(exc_info[1]):
            if id(message) not in self._retried and _safe_to_repeat(worker_ctx):
                log.warning(
                    "%s.%s lost its database connection; running it again on a fresh one",
                    self.container.service_name,
                    self.method_name,
                )
                self._retried.add(id(message))
                self._run_again(message, worker_ctx)
                return result, exc_info  # no answer yet: the second run gives it
            exc_info = _unavailable()
        self._retried.discard(id(message))
        return super().handle_result(message, worker_ctx, result, exc_info)

    def _run_again(self, message, worker_ctx):
        def spawn():
            try:
                self.container.spawn_worker(
                    self,
                    worker_ctx.args,
                    worker_ctx.kwargs,
                    context_data=worker_ctx.context_data,
                    handle_result=lambda ctx, result, exc_info: self.handle_result(message, ctx, result, exc_info),
                )
            except ContainerBeingKilled:
                self._retried.discard(id(message))
                self.rpc_consumer.consumer.requeue_message(message)

        # not from this worker: with the pool full it would wait for itself
        self.container.spawn_managed_thread(spawn, identifier=f"{self.method_name}.run_again")
