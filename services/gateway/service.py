"""gateway: the HTTP API under /api/v1 for web and mobile clients.

Thin on purpose: each route of the table (routes.py) checks the request's form, verifies the token at the edge,
calls the owning service over RPC (with a deadline) and dumps its answer through the documented schema. The
owning service re-verifies the token and decides what the caller may do.
"""

from nameko.extensions import DependencyProvider

from shared import config
from shared.auth import Caller
from shared.context import CLIENT_ADDRESS_KEY
from shared.errors import NotFound
from shared.http import api
from shared.metrics import Telemetry
from shared.operations import PublicOperations
from shared.rpc import Rpc
from services.gateway import openapi, reports, web
from services.gateway.routes import ROUTES
from services.gateway.throttle import AddressThrottle
from services.gateway.versions import MemberVersions


class ClientThrottle(DependencyProvider):
    """`self.throttle()` counts one sign-in attempt for the caller's address (429 past the limit)."""

    def setup(self):
        self.limiter = AddressThrottle(limit=int(config.get("AUTH_ATTEMPTS_PER_MINUTE", 60)))

    def get_dependency(self, worker_ctx):
        return lambda: self.limiter.hit(worker_ctx.context_data.get(CLIENT_ADDRESS_KEY) or "unknown")


class GatewayService(PublicOperations):
    name = "gateway"

    rpc = Rpc()
    caller = Caller()
    throttle = ClientThrottle()
    telemetry = Telemetry()
    versions = MemberVersions()

    @api("GET", "/api/v1/openapi.json")
    def openapi(self, request):
        return openapi.build()

    @api("GET", "/")
    def portal(self, request):
        return web.serve(request, "index.html")

    @api("GET", "/<any(sw.js, manifest.webmanifest):name>")
    def portal_entry(self, request, name):
        return web.serve(request, name)

    @api("GET", "/assets/<path:name>")
    def portal_asset(self, request, name):
        found = web.serve(request, f"assets/{name}")
        if found is None:
            raise NotFound()
        return found


def entrypoint(route):
    """The nameko entrypoint that serves `route`."""

    def serve(self, request, **path):
        principal = None if route.public else self.caller.require()
        if route.throttle:
            self.throttle()
        try:
            if callable(route.call):
                return route.respond(route.call(self, route, request, **path))
            if route.report is not None:
                return route.respond(reports.serve(self, route, request, path))
            return route.respond(route.call_rpc(self.rpc, request, path))
        finally:
            if principal is not None and route.method != "GET":
                # the caller's own change (their record, a read receipt, a bookmark, an answer…) shows on their next
                # read here, before the owner's event comes back, if it sends one at all: all of theirs forgotten
                self.versions.forget(principal.member_id)

    serve.__name__ = serve.__qualname__ = route.operation_id
    return api(route.method, openapi.PREFIX + route.path, accepts=route.media)(serve)


for _route in (route for table in ROUTES.values() for route in table):
    setattr(GatewayService, _route.operation_id, entrypoint(_route))
