"""HTTP entrypoints that speak the JSON error format of API.md.

`@api(method, url)` is nameko's `http` with: JSON results, our error hierarchy
mapped to status codes, JSON 404/405 for unknown routes, request metrics, and
the caller's token, address and a correlation id put into context data (so
every RPC and event after this hop carries them).
"""

import json
import logging
import os
import re
import time
from functools import partial

from eventlet.event import Event
from eventlet.hubs import trampoline
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp, parse_address
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Request, Response

from shared import config, errors, logs, metrics
from shared.context import AUTH_TOKEN_KEY, CLIENT_ADDRESS_KEY, CORRELATION_ID_KEY, USER_AGENT_KEY, new_correlation_id
from shared.entrypoints import KeptSignature
from shared.validation import UNSTORABLE, refuse_unstorable, unstorable_text

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
CORRELATION_HEADER = "X-Correlation-ID"
SAFE_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


# Every answer: a JSON API that no browser may sniff, frame, or tell another site about. The portal
# will serve its pages with a policy of its own.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
TOKEN_KEYS = frozenset(("access_token", "refresh_token"))
NO_STORE = "no-store"  # an answer that carries a token or sets a cookie: never kept anywhere
PRIVATE = "private, no-cache"  # anything else may be personal: no shared cache, revalidate before use


def json_response(payload, status=200, headers=None):
    response = Response(
        json.dumps(payload, ensure_ascii=False, default=str),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )
    if isinstance(payload, dict) and not TOKEN_KEYS.isdisjoint(payload):
        response.headers["Cache-Control"] = NO_STORE
    return response


def secure(response):
    """The headers of every answer, in one place: the security headers and the cache rule."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Set-Cookie" in response.headers:
        response.headers["Cache-Control"] = NO_STORE
    response.headers.setdefault("Cache-Control", PRIVATE)
    return response


def error_response(exc: errors.SotayError):
    return json_response(exc.as_json(), status=exc.status, headers=exc.headers or None)


class LimitedRequest(Request):
    max_content_length = MAX_BODY_BYTES


def _http_exception_response(exc: HTTPException):
    """werkzeug's own answers (no route, wrong method, body too large) in our JSON format; a 405 names the
    methods the path has (RFC 9110)."""
    error = {404: errors.NotFound, 405: errors.MethodNotAllowed, 413: errors.PayloadTooLarge}.get(
        exc.code, errors.BadRequest
    )
    allowed = getattr(exc, "valid_methods", None)
    return error_response(error(headers={"Allow": ", ".join(sorted(allowed))} if allowed else None))


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = LimitedRequest(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except MethodNotAllowed as exc:
            response = _http_exception_response(exc if _some_method_matches(adapter, exc.valid_methods) else NotFound())
        except HTTPException as exc:
            response = _http_exception_response(exc)
        return secure(response)(environ, start_response)


def _some_method_matches(adapter, methods):
    """werkzeug answers 405 too when a path part fails its converter (an id past 64 bits) after it saw a rule of
    another method on the path: then no method matches and it is a 404."""
    for method in methods:
        try:
            adapter.match(method=method)
            return True
        except HTTPException:
            continue
    return False


class StoredInteger(IntegerConverter):
    """`<int:…>` path parts that fit a database integer, in ASCII digits (`\\d` takes "٣" for 3); anything else
    matches no route (404)."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


SEND_FILE = "sotay.send_file"  # the request's environ: send_file(fd, offset, count), see FileSendingProtocol


def send_file(sock, fd, offset, count):
    """`count` bytes of the open file `fd` from `offset` to the green socket `sock`, copied by the kernel
    (os.sendfile), this green thread waiting while the client's window is full. The bytes sent: fewer only when
    the file ends early."""
    out = sock.fileno()
    sent = 0
    while sent < count:
        try:
            done = os.sendfile(out, fd, offset + sent, count - sent)
        except BlockingIOError:
            trampoline(out, write=True, timeout=sock.gettimeout(), timeout_exc=TimeoutError("timed out"))
            continue
        if done == 0:
            break
        sent += done
    return sent


class FileSendingProtocol(HttpOnlyProtocol):
    """nameko's HTTP protocol, with `environ[SEND_FILE]` in each request: a download of a local file sends its
    bytes from the page cache to the socket without passing them through Python chunk by chunk (a 50 MiB
    attachment crosses loopback in tens of milliseconds, where per-chunk reads and writes are most of the cost)."""

    def get_environ(self):
        environ = super().get_environ()
        if hasattr(os, "sendfile"):
            environ[SEND_FILE] = partial(send_file, self.connection)
        return environ


class JsonWebServer(WebServer):
    """The service's HTTP port (WEB_SERVER_ADDRESS)."""

    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def make_url_map(self):
        url_map = Map(converters={"int": StoredInteger})
        for provider in self._providers:
            rule = provider.get_url_rule()
            rule.endpoint = provider
            url_map.add(rule)
        return url_map

    def get_wsgi_server(self, sock, wsgi_app, protocol=None, debug=False):
        from eventlet import wsgi

        return wsgi.Server(
            sock,
            sock.getsockname(),
            wsgi_app,
            protocol=FileSendingProtocol,
            debug=False,
            log=logging.getLogger("sotay.http.access"),
            log_output=False,
            keepalive=True,
        )


class OperationsWebServer(JsonWebServer):
    """A port of its own for operators (Prometheus), away from the clients' port:
    OPERATIONS_ADDRESS, bound to 127.0.0.1 unless a deployment says otherwise."""

    @property
    def bind_addr(self):
        return parse_address(str(config.get("OPERATIONS_ADDRESS", "127.0.0.1:8090")))


def refuse_unstorable_url(request):
    """Path parts and query values pass the same text check as JSON bodies (`%00` is no id)."""
    values = [*request.path_values.values(), *(part for item in request.args.items(multi=True) for part in item)]
    if any(isinstance(value, str) and unstorable_text(value) for value in values):
        raise errors.ValidationError(details={"_url": [UNSTORABLE]})


def bearer_token(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def trusted_proxies():
    return {address.strip() for address in str(config.get("TRUSTED_PROXIES", "") or "").split(",") if address.strip()}


def client_address(request, trusted=None):
    """The caller's address. Behind the load balancers named in TRUSTED_PROXIES it is the last
    address in X-Forwarded-For that is not one of them (earlier entries are the client's word)."""
    trusted = trusted_proxies() if trusted is None else trusted
    address = request.remote_addr or ""
    if address not in trusted:
        return address
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    for hop in reversed(forwarded):
        if hop not in trusted:
            return hop[:64]
    return address


class ApiHandler(KeptSignature, HttpRequestHandler):
    server = JsonWebServer()

    def __init__(self, method, url, accepts=("application/json",), **kwargs):
        kwargs.setdefault("expected_exceptions", errors.SotayError)
        super().__init__(method, url, **kwargs)
        self.accepts = accepts

    def refuse_media_type(self, request):
        """A body must be one of the route's media types (JSON unless it says otherwise): a cross-site
        form (urlencoded, multipart, text/plain) cannot post sign-in attempts or anything else."""
        # only a body is judged: eventlet calls a request without a Content-Type text/plain
        has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if has_body and request.mimetype not in self.accepts:
            types = ", ".join(self.accepts)
            raise errors.UnsupportedMediaType(
                message=None
                if self.accepts == ("application/json",)
                else f"Hãy gửi dữ liệu dạng {types}. / Send the body as {types}.",
                details={"content_type": list(self.accepts)},
            )

    def handle_request(self, request):
        started = time.perf_counter()
        request.shallow = False
        correlation_id = request.headers.get(CORRELATION_HEADER, "")
        if not SAFE_CORRELATION_ID.match(correlation_id):
            correlation_id = new_correlation_id()
        context_data = {
            CORRELATION_ID_KEY: correlation_id,
            AUTH_TOKEN_KEY: bearer_token(request),
            CLIENT_ADDRESS_KEY: client_address(request),
            USER_AGENT_KEY: (request.headers.get("User-Agent") or "")[:255],
        }
        try:
            self.refuse_media_type(request)
            refuse_unstorable_url(request)
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            done = Event()
            self.container.spawn_worker(
                self, args, kwargs, context_data=context_data, handle_result=partial(self.handle_result, done)
            )
            result = done.wait()
            response = self.response_from_result(result)
        except Exception as exc:
            response = self.response_from_exception(exc)
        response.headers[CORRELATION_HEADER] = correlation_id
        service = self.container.service_name
        metrics.HTTP_REQUESTS.labels(service, request.method, self.url, str(response.status_code)).inc()
        metrics.HTTP_LATENCY.labels(service, request.method, self.url).observe(time.perf_counter() - started)
        return response

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, headers = 200, None
        if isinstance(result, tuple):
            if len(result) == 3:
                status, headers, result = result
            else:
                status, result = result
        return json_response(result, status=status, headers=headers)

    def response_from_exception(self, exc):
        if isinstance(exc, errors.SotayError):
            return error_response(exc)
        if isinstance(exc, HTTPException):
            return _http_exception_response(exc)
        logs.log_worker_failure(log, f"{self.method} {self.url}", (type(exc), exc, exc.__traceback__))
        if errors.is_outage(exc):  # the broker or the database went away: try again, not a bug
            return error_response(errors.ServiceUnavailable())
        return error_response(errors.SotayError())


class OperationsHandler(ApiHandler):
    server = OperationsWebServer()


api = ApiHandler.decorator
operations_api = OperationsHandler.decorator  # served on the operations port, not the clients'


def read_json(request):
    """The request body as a JSON object, or a clear 400."""
    raw = request.get_data()  # over the limit: werkzeug's 413, answered as payload_too_large
    if not raw:
        raise errors.ValidationError(
            message="Thiếu dữ liệu JSON. / A JSON body is required.", details={"_body": ["required"]}
        )
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested past Python's stack
        raise errors.BadRequest(
            message="Dữ liệu không phải JSON hợp lệ. / The body is not valid JSON.", details={"_body": ["invalid_json"]}
        ) from None
    if not isinstance(body, dict):
        raise errors.ValidationError(details={"_body": ["must be a JSON object"]})
    return refuse_unstorable(body)


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's extension, not the standard
