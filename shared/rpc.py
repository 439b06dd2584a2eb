"""RPC with a deadline (nameko 3 waits for a reply forever, a gateway must not), signed by the caller.

Every call carries the calling service's own token for the service it calls
(shared/service_tokens.py), in place of whatever token an earlier hop sent.
A service with nobody serving its requests costs its callers nothing: they are told 503 at once
(`Availability`), as is one that stopped answering (`Breaker`), and a caller's own reply queue never kills it
(`ReplyListener`).

Requests and replies go out without a publisher confirm and are not persisted (issue 14 item 2): the reply is the
request's receipt, and a request or reply the broker loses ends as the caller's deadline (503), as a lost reply
always did; a confirm per message was the largest cost of a busy service (issue 12). Only the first call to a
service not yet seen served waits for a confirm, so that a request nobody's queue takes is refused at once
(`mandatory`). Events keep their confirms (shared/outbox.py).
"""

import logging
import time
from contextlib import contextmanager

import eventlet
from amqp.exceptions import NotFound
from kombu import Connection
from kombu.pools import producers
from nameko import config as nameko_config
from nameko.amqp.publish import Publisher, get_connection
from nameko.constants import AMQP_SSL_CONFIG_KEY, DEFAULT_TRANSPORT_OPTIONS, LOGIN_METHOD_CONFIG_KEY, NON_PERSISTENT
from nameko.exceptions import RemoteError
from nameko.extensions import SharedExtension
from nameko.rpc import (
    RPC_QUEUE_TEMPLATE,
    Client,
    ClusterRpc,
    ReplyListener as NamekoReplyListener,
    Responder,
    RpcConsumer,
    get_rpc_exchange,
)

from shared import config
from shared.context import SERVICE_TOKEN_KEY
from shared.errors import ServiceUnavailable, from_remote
from shared.service_tokens import ServiceSigner

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
RETRY_AFTER_SECONDS = 5  # what a client is told to wait when a service is unavailable
CHECK_INTERVAL = 0.5  # seconds between two looks at a called service's consumers (RPC_CHECK_INTERVAL)
RECOVERY_INTERVAL = 0.1  # the same while a service is down: callers see it back within a tenth of a second
WATCH_FOR = 60.0  # a service not called for this long is no longer looked at


def unavailable(service, reason):
    """503 with Retry-After: the caller may try again shortly (nothing was done, or nothing is known)."""
    details = {"reason": reason, **({"service": service} if service else {})}
    return ServiceUnavailable(details=details, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _broker_options():
    return {"ssl": nameko_config.get(AMQP_SSL_CONFIG_KEY), "login_method": nameko_config.get(LOGIN_METHOD_CONFIG_KEY)}


CONFIRMED = {**DEFAULT_TRANSPORT_OPTIONS, "confirm_publish": True}


class UnconfirmedPublisher(Publisher):
    """Publishes an RPC request or reply without waiting for the broker's confirm, and not to disk."""

    use_confirms = False
    delivery_mode = NON_PERSISTENT
    # a dict of its own: nameko's Publisher writes `confirm_publish` into the one it uses, and kombu keys its pools
    # of connections by these options, so confirmed and unconfirmed messages never share a channel
    transport_options = {**DEFAULT_TRANSPORT_OPTIONS, "confirm_publish": False}
    _pools = {}  # (broker, TLS, login method) → kombu's pool of producers: a responder's publisher lives one reply

    def publish(self, payload, extra_headers=None, **options):
        """nameko's publish less its per-message work (a kombu Connection built to find the pool of producers, the
        options merged again): about 0.3 ms of CPU a message against nameko's 0.5 unconfirmed and 0.7 confirmed
        (`python -m bench.publish`). A confirmed one goes nameko's way."""
        if options.get("use_confirms"):
            return super().publish(payload, extra_headers=extra_headers or {}, **options)
        key = (self.amqp_uri, repr(self.ssl), self.login_method)
        pool = self._pools.get(key)
        if pool is None:
            broker = Connection(
                self.amqp_uri, transport_options=self.transport_options, ssl=self.ssl, login_method=self.login_method
            )
            pool = self._pools[key] = producers[broker]
        with pool.acquire(block=True) as producer:
            producer.publish(
                payload,
                headers=extra_headers or {},
                delivery_mode=self.delivery_mode,
                expiration=self.expiration,
                serializer=options.pop("serializer", self.serializer),
                retry=self.retry,
                retry_policy=self.retry_policy,
                **{**self.publish_kwargs, **options},
            )


class _UnconfirmedResponder(Responder):
    publisher_cls = UnconfirmedPublisher


class RequestConsumer(RpcConsumer):
    """nameko's consumer of a service's requests, answering each without a publisher confirm: the caller waits for
    the reply itself, and one the broker loses ends as its deadline."""

    def handle_result(self, message, result, exc_info):
        responder = _UnconfirmedResponder(self.amqp_uri, get_rpc_exchange(), message, **_broker_options())
        result, exc_info = responder.send_response(result, exc_info)
        self.consumer.ack_message(message)
        return result, exc_info


class ReplyListener(NamekoReplyListener):
    """nameko's reply listener, made safe for a caller started under load (issue 9 item 10).

    Its queue is declared in setup, which precedes every extension's start: no entrypoint serves, so no
    request goes out, before replies have somewhere to go. A queue found missing on a reconnection (it
    expired, or the broker lost it) is re-declared by the consumer; the calls whose replies it held fail
    now with 503 instead of killing the container, as nameko would (ReplyQueueExpiredWithPendingReplies).
    """

    class ReplyConsumer(NamekoReplyListener.ReplyConsumer):
        def requeue_message(self, message):
            pass  # taken unacknowledged: nothing to hand back, and a stopping caller has no use for the reply

    consumer_cls = ReplyConsumer

    def setup(self):
        super().setup()
        # replies are taken without acknowledgement (no_ack): one frame less per call for the caller and the
        # broker; a reply can only be lost with this process, and then nobody waits for it
        self.consumer.consumer_options["no_ack"] = True
        with get_connection(self.amqp_uri, **_broker_options()) as connection:
            self.queue.bind(connection).declare()

    def check_for_lost_replies(self):
        if not self.pending:
            return
        try:
            with get_connection(self.amqp_uri, **_broker_options()) as connection:
                self.queue.bind(connection).queue_declare(passive=True)
        except NotFound:
            log.warning(
                "reply queue lost with %d calls waiting: they fail, the queue is declared again", len(self.pending)
            )
            self.fail(list(self.pending), unavailable(None, "reply_lost"))

    def fail(self, correlation_ids, error):
        for correlation_id in correlation_ids:
            reply = self.pending.pop(correlation_id, None)
            if reply is not None and not reply.ready():
                reply.send_exception(error)


class Breaker:
    """Per called service: after BREAKER_TIMEOUTS calls in a row ended by the deadline, the service is presumed
    hung (it has a consumer that does not answer) and its calls fail at once for `open_for` seconds; then one call
    goes through as a probe — an answer closes the breaker, another timeout opens it again."""

    def __init__(self, timeouts=3, open_for=RETRY_AFTER_SECONDS, clock=time.monotonic):
        self.limit, self.open_for, self.clock = timeouts, open_for, clock
        self.timeouts = {}  # service → timeouts in a row
        self.open_until = {}  # service → when a probe may go through
        self.probing = set()

    def allow(self, service):
        """Whether a call to `service` may go out now."""
        until = self.open_until.get(service)
        if until is None:
            return True
        if self.clock() < until or service in self.probing:
            return False
        self.probing.add(service)
        return True

    def answered(self, service):
        self.timeouts.pop(service, None)
        self.open_until.pop(service, None)
        self.probing.discard(service)

    def timed_out(self, service):
        self.timeouts[service] = self.timeouts.get(service, 0) + 1
        if self.timeouts[service] >= self.limit or service in self.probing:
            if service not in self.open_until or service in self.probing:
                log.warning(
                    "%s did not answer %d calls in a row: its callers are answered 503 for %.0f s",
                    service,
                    self.timeouts[service],
                    self.open_for,
                )
            self.open_until[service] = self.clock() + self.open_for
            self.probing.discard(service)


class Availability(SharedExtension):
    """Which called services have nobody consuming their requests (issue 9 item 3).

    A thread of its own looks at the consumers of each recently called service's request queue every
    CHECK_INTERVAL on one connection, so a call costs a set lookup, not a broker round trip. A service
    found without consumers fails its calls in flight and every new one with 503 and Retry-After at once,
    and is looked at every RECOVERY_INTERVAL until a consumer is back.
    """

    def __init__(self):
        super().__init__()
        self.called = {}  # service → when it was last called (monotonic)
        self.down = set()
        self.served = set()  # seen with a consumer at the last look: its requests need no confirm
        self.in_flight = {}  # service → correlation ids of calls waiting for its reply
        self.reply_listener = None
        self.breaker = Breaker()

    def setup(self):
        self.interval = float(config.get("RPC_CHECK_INTERVAL", CHECK_INTERVAL))

    def start(self):
        self.container.spawn_managed_thread(self._watch, identifier="rpc_availability")

    def check(self, service):
        """Before a call: 503 when nobody serves `service`."""
        self.called[service] = time.monotonic()
        if service in self.down:
            raise unavailable(service, "no_consumer")
        if not self.breaker.allow(service):
            raise unavailable(service, "not_answering")

    @contextmanager
    def calling(self, service, correlation_id):
        waiting = self.in_flight.setdefault(service, set())
        waiting.add(correlation_id)
        try:
            if service in self.down:  # found down while this request was being sent: failing the calls missed it
                raise unavailable(service, "no_consumer")
            yield
        finally:
            waiting.discard(correlation_id)

    def _watch(self):
        while True:
            try:
                with Connection(config.amqp_uri(), **_broker_options()) as connection:
                    channel = connection.channel()
                    while True:
                        channel = self._look(connection, channel)
                        eventlet.sleep(min(self.interval, RECOVERY_INTERVAL) if self.down else self.interval)
            except Exception:  # the broker went away: keep the last answer, look again once it is back
                log.warning("cannot see which services are served; trying again", exc_info=True)
                eventlet.sleep(self.interval)

    def _look(self, connection, channel):
        now = time.monotonic()
        for service, called in list(self.called.items()):
            if now - called > WATCH_FOR:
                self.called.pop(service, None)
                self.down.discard(service)
                self.served.discard(service)
                continue
            try:
                consumers = channel.queue_declare(queue=RPC_QUEUE_TEMPLATE.format(service), passive=True).consumer_count
            except NotFound:  # never started: the broker closed the channel
                consumers, channel = 0, connection.channel()
            if consumers:
                self.down.discard(service)
                self.served.add(service)
                continue
            self.served.discard(service)
            if service in self.down:
                continue
            self.down.add(service)
            log.warning("%s has no consumer: its callers are answered 503", service)
            if self.reply_listener is not None:
                self.reply_listener.fail(list(self.in_flight.get(service, ())), unavailable(service, "no_consumer"))
        return channel


def signed_for(client, service, signer):
    """nameko's `client.<service>`, carrying `signer`'s token for that service (never an earlier hop's)."""
    context = {**client.context_data, SERVICE_TOKEN_KEY: signer.token_for(service)}
    return Client(client.publish, client.register_for_reply, context, service)


class TimedClient:
    """Wraps nameko's client: `client.members.get_me(...)` with a deadline, our errors and our token."""

    def __init__(self, client, rpc, service=None):
        self._client = client
        self._rpc = rpc
        self._service = service

    def __getattr__(self, name):
        if self._service is None:
            return TimedClient(self._client, self._rpc, name)
        # signed at each call, not when `client.<service>` was taken: a long job keeping it (a bulk re-read, page
        # after page for minutes) would otherwise send a token that expired on the way (LIFETIME, 60 s)
        return _TimedMethod(getattr(signed_for(self._client, self._service, self._rpc.signer), name), self._rpc)


class _TimedMethod:
    def __init__(self, method, rpc):
        self._method = method
        self._rpc = rpc

    def __call__(self, *args, **kwargs):
        service = self._method.service_name
        availability = self._rpc.availability
        availability.check(service)
        try:
            call = self._method.call_async(*args, **kwargs)
        except Exception as exc:
            if type(exc).__name__ == "UnknownService":  # no request queue at all: never started
                raise unavailable(service, "unknown_service") from None
            raise
        try:
            with availability.calling(service, call.correlation_id), eventlet.Timeout(self._rpc.timeout):
                result = call.result()
            availability.breaker.answered(service)
            return result
        except eventlet.Timeout:
            # forget the pending reply so a late answer is dropped, not leaked
            self._rpc.reply_listener.pending.pop(call.correlation_id, None)
            availability.breaker.timed_out(service)
            raise unavailable(service, "timeout") from None
        except ServiceUnavailable:
            self._rpc.reply_listener.pending.pop(call.correlation_id, None)
            raise
        except RemoteError as exc:
            availability.breaker.answered(service)  # it answered, if with an error
            ours = from_remote(exc)
            if ours is not None:
                raise ours from None
            raise


class Rpc(ClusterRpc):
    """Cluster RPC with a timeout (config RPC_TIMEOUT, seconds) and request expiry."""

    publisher_cls = UnconfirmedPublisher
    reply_listener = ReplyListener()
    availability = Availability()

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
        self.availability.reply_listener = self.reply_listener

    def publish(self, payload, routing_key, mandatory=False, **options):
        """A request, unconfirmed to a service seen served; else confirmed and `mandatory`, so that one whose
        request queue does not exist is refused at once (nameko's UnknownService) instead of lost."""
        if routing_key.partition(".")[0] in self.availability.served:
            return self.publisher.publish(payload, routing_key=routing_key, **options)
        return self.publisher.publish(
            payload, routing_key=routing_key, mandatory=True, use_confirms=True, transport_options=CONFIRMED, **options
        )

    def get_dependency(self, worker_ctx):
        client = Client(self.publish, self.reply_listener.register_for_reply, worker_ctx.context_data)
        return TimedClient(client, self)


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
