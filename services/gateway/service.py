"""gateway: the HTTP API under /api/v1 for web and mobile clients.

Thin on purpose: validate the request with a schema, verify the token at the
edge, call the owning service over RPC (with a deadline), return its answer.
The owning service re-verifies the token and decides what the caller may do.
The routes live by concept in auth_routes.py, member_routes.py, notify_routes.py and privacy_routes.py.
"""
from shared.auth import Caller
from shared.http import api
from shared.metrics import Telemetry
from shared.operations import PublicOperations
from shared.rpc import Rpc
from services.gateway import openapi
from services.gateway.auth_routes import AuthRoutes, ClientThrottle
from services.gateway.member_routes import MemberRoutes
from services.gateway.notify_routes import NotifyRoutes
from services.gateway.privacy_routes import PrivacyRoutes


class GatewayService(AuthRoutes, MemberRoutes, NotifyRoutes, PrivacyRoutes, PublicOperations):
    name = "gateway"

    rpc = Rpc()
    caller = Caller()
    throttle = ClientThrottle()
    telemetry = Telemetry()

    @api("GET", "/api/v1/openapi.json")
    def openapi(self, request):
        return openapi.build(type(self))
