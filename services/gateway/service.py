"""gateway: the HTTP API under /api/v1 for web and mobile clients.

Thin on purpose: validate the request with a schema, verify the token at the
edge, call the owning service over RPC (with a deadline), return its answer.
The owning service re-verifies the token and decides what the caller may do.
"""
from shared.auth import Caller
from shared.http import api, read_json
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.rpc import Rpc
from shared.validation import load
from services.gateway import openapi
from services.gateway.schemas import LoginRequest, RefreshRequest



class GatewayService(Operations):
    name = "gateway"

    rpc = Rpc()
    caller = Caller()
    telemetry = Telemetry()

    @api("POST", "/api/v1/auth/login")
    def login(self, request):
        """Đăng nhập bằng số định danh và mật khẩu / Sign in with citizen ID and password.
        ---
        post:
          tags: [auth]
          summary: Sign in
          requestBody: {required: true, content: {application/json: {schema: LoginRequest}}}
          responses:
            200: {description: tokens, content: {application/json: {schema: TokenPair}}}
            400: {description: validation_error, content: {application/json: {schema: Error}}}
            401: {description: invalid_credentials (same answer whether or not the account exists), content: {application/json: {schema: Error}}}
            403: {description: activation_required, content: {application/json: {schema: Error}}}
            429: {description: too_many_attempts, content: {application/json: {schema: Error}}}
        """
        return self.rpc.identity.login(load(LoginRequest(), read_json(request)))

    @api("POST", "/api/v1/auth/refresh")
    def refresh(self, request):
        """Đổi refresh token lấy cặp token mới / Rotate a refresh token.
        ---
        post:
          tags: [auth]
          requestBody: {required: true, content: {application/json: {schema: RefreshRequest}}}
          responses:
            200: {description: a new pair; the old refresh token is spent, content: {application/json: {schema: TokenPair}}}
            400: {description: validation_error, content: {application/json: {schema: Error}}}
            401: {description: invalid_token, content: {application/json: {schema: Error}}}
        """
        return self.rpc.identity.refresh(load(RefreshRequest(), read_json(request)))

    @api("POST", "/api/v1/auth/logout")
    def logout(self, request):
        """Đăng xuất (thu hồi phiên) / Sign out (revokes this session's refresh tokens).
        ---
        post:
          tags: [auth]
          security: [{bearer: []}]
          responses:
            200: {description: signed out}
            401: {description: unauthenticated, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.identity.logout()

    @api("GET", "/api/v1/.well-known/jwks.json")
    def jwks(self, request):
        """Khoá công khai để kiểm chữ ký token / Public keys that verify access tokens.
        ---
        get:
          tags: [auth]
          responses:
            200: {description: JWKS, content: {application/json: {schema: Jwks}}}
        """
        return self.rpc.identity.jwks()

    @api("GET", "/api/v1/me")
    def me(self, request):
        """Hồ sơ của tôi / My member record.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          responses:
            200: {description: the caller's member record, content: {application/json: {schema: MemberOut}}}
            401: {description: unauthenticated / invalid_token, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.get_me()

    @api("GET", "/api/v1/organizations/<int:organization_id>")
    def organization(self, request, organization_id):
        """Một tổ chức đảng / One party organisation.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: the organisation, content: {application/json: {schema: OrganizationOut}}}
            401: {description: unauthenticated, content: {application/json: {schema: Error}}}
            404: {description: not_found (or not visible to the caller), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.get_organization(organization_id)

    @api("GET", "/api/v1/organizations/<int:organization_id>/children")
    def organization_children(self, request, organization_id):
        """Các tổ chức trực thuộc / The organisations directly below one.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: a page of organisations, content: {application/json: {schema: OrganizationPage}}}
            401: {description: unauthenticated, content: {application/json: {schema: Error}}}
            404: {description: not_found, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.list_children(organization_id)

    @api("GET", "/api/v1/openapi.json")
    def openapi(self, request):
        return openapi.build(type(self))
