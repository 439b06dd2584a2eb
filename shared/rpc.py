"""RPC with a deadline (nameko 3 waits for a reply forever, a gateway must not), signed by the caller.

Every call carries the calling service's own token for the service it calls
(shared/service_tokens.py), in place of whatever token an earlier hop sent.
"""
from contextlib import contextmanager

import eventlet
from nameko.exceptions import RemoteError
from nameko.rpc import Client, ClusterRpc

from shared import config
from shared.context import SERVICE_TOKEN_KEY
from shared.errors import ServiceUnavailable, from_remote
from shared.service_tokens import ServiceSigner

DEFAULT_TIMEOUT = 10.0


def signed_for(client, service, signer):
    """nameko's `client.<service>`, carrying `signer`'s token for that service (never an earlier hop's)."""
    context = {**client.context_data, SERVICE_TOKEN_KEY: signer.token_for(service)}
    return Client(client.publish, client.register_for_reply, context, service)


class TimedClient:
    """Wraps nameko's client: `client.members.get_me(...)` with a deadline, our errors and our token."""

    def __init__(self, client, reply_listener, timeout, signer, service=None):
        self._client = client
        self._reply_listener = reply_listener
        self._timeout = timeout
        self._signer = signer
        self._service = service

    def __getattr__(self, name):
        if self._service is None:
            return TimedClient(signed_for(self._client, name, self._signer), self._reply_listener, self._timeout,
                               self._signer, name)
        return _TimedMethod(getattr(self._client, name), self._reply_listener, self._timeout)


class _TimedMethod:
    def __init__(self, method, reply_listener, timeout):
        self._method = method
        self._reply_listener = reply_listener
        self._timeout = timeout

    def __call__(self, *args, **kwargs):
        call = self._method.call_async(*args, **kwargs)
        try:
            with eventlet.Timeout(self._timeout):
                return call.result()
        except eventlet.Timeout:
            # forget the pending reply so a late answer is dropped, not leaked
            self._reply_listener.pending.pop(call.correlation_id, None)
            raise ServiceUnavailable(details={"service": self._method.service_name, "reason": "timeout"})
        except RemoteError as exc:
            ours = from_remote(exc)
            if ours is not None:
                raise ours from None
            raise
        except Exception as exc:
            if type(exc).__name__ == "UnknownService":
                raise ServiceUnavailable(details={"service": self._method.service_name}) from None
            raise


class Rpc(ClusterRpc):
    """Cluster RPC with a timeout (config RPC_TIMEOUT, seconds) and request expiry."""

    def __init__(self, timeout=None, **options):
        self.timeout = timeout
        super().__init__(**options)

    def setup(self):
        self.timeout = float(self.timeout or config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
        # a request nobody picked up before the caller gave up is useless: let it expire
        self.publisher_options.setdefault("expiration", self.timeout)
        super().setup()
        # nameko re-declares the reply queue before every request (a broker round trip each);
        # the reply listener declares it when it starts and on every reconnection
        self.publisher.declare = []
        self.signer = ServiceSigner.for_service(self.container.service_name)

    def get_dependency(self, worker_ctx):
        client = super().get_dependency(worker_ctx)
        return TimedClient(client, self.reply_listener, self.timeout, self.signer)


class NestedRpc(Rpc):
    """An Rpc owned by another dependency (nameko binds sub-extensions without a name)."""

    def bind(self, container, attr_name="nested_rpc"):
        return super().bind(container, attr_name)


class _Signing:
    def __init__(self, client, signer):
        self._client = client
        self._signer = signer

    def __getattr__(self, service):
        return signed_for(self._client, service, self._signer)

    __getitem__ = __getattr__


@contextmanager
def service_client(as_service, context_data=None, **options):
    """A standalone RPC client (scripts, tests, benchmarks) that signs as `as_service`: it needs that
    service's private key (SERVICE_KEY_FILE or SERVICE_KEYS_DIR), and the callee must name it."""
    from nameko.standalone.rpc import ClusterRpcClient

    signer = ServiceSigner.for_service(as_service)
    options.setdefault("uri", config.amqp_uri())
    with ClusterRpcClient(context_data=context_data, **options) as client:
        yield _Signing(client, signer)


def call_once(as_service, service, method, *args, timeout=None):
    """One RPC from a script outside nameko (operator commands), signed as `as_service`, with a deadline
    and our errors."""
    timeout = float(timeout or config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
    with service_client(as_service, timeout=timeout) as client:
        try:
            return getattr(getattr(client, service), method)(*args)
        except RemoteError as exc:
            raise (from_remote(exc) or exc) from None
        except Exception as exc:
            if type(exc).__name__ in ("RpcTimeout", "UnknownService"):
                raise ServiceUnavailable(details={"service": service}) from None
            raise
