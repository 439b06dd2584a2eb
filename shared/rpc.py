"""RPC with a deadline: nameko 3 waits for a reply forever, a gateway must not."""
import eventlet
from nameko.exceptions import RemoteError
from nameko.rpc import ClusterRpc

from shared import config
from shared.errors import ServiceUnavailable, from_remote

DEFAULT_TIMEOUT = 10.0


class TimedClient:
    """Wraps nameko's client: `client.members.get_me(...)` with a deadline and our errors."""

    def __init__(self, client, reply_listener, timeout, service=None):
        self._client = client
        self._reply_listener = reply_listener
        self._timeout = timeout
        self._service = service

    def __getattr__(self, name):
        if self._service is None:
            return TimedClient(getattr(self._client, name), self._reply_listener, self._timeout, name)
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

    def get_dependency(self, worker_ctx):
        client = super().get_dependency(worker_ctx)
        return TimedClient(client, self.reply_listener, self.timeout)


class NestedRpc(Rpc):
    """An Rpc owned by another dependency (nameko binds sub-extensions without a name)."""

    def bind(self, container, attr_name="nested_rpc"):
        return super().bind(container, attr_name)


def call_once(service, method, *args, timeout=None, context_data=None):
    """One RPC from a script outside nameko (operator commands), with a deadline and our errors."""
    from nameko.standalone.rpc import ClusterRpcClient

    timeout = float(timeout or config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
    with ClusterRpcClient(context_data=context_data or {}, uri=config.amqp_uri(), timeout=timeout) as client:
        try:
            return getattr(getattr(client, service), method)(*args)
        except RemoteError as exc:
            raise (from_remote(exc) or exc) from None
        except Exception as exc:
            if type(exc).__name__ in ("RpcTimeout", "UnknownService"):
                raise ServiceUnavailable(details={"service": service}) from None
            raise
