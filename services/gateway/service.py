"""gateway: the HTTP API under /api/v1 for web and mobile clients.

Thin on purpose: validate the request with a schema, verify the token at the
edge, call the owning service over RPC (with a deadline), return its answer.
The owning service re-verifies the token and decides what the caller may do.
"""
import base64
import secrets

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from shared import config
from shared.auth import Caller
from shared.context import CLIENT_ADDRESS_KEY
from shared.errors import ValidationError, VneidFailed
from shared.http import api, json_response, read_json
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.rpc import Rpc
from shared.validation import load
from services.gateway import openapi
from services.gateway.schemas import (CodeRequest, CodeVerification, Decision, LoginRequest, MergeRequest,
                                      PasswordChange, RefreshRequest, RolloutChange)
from services.gateway.throttle import AddressThrottle


VNEID_COOKIE = "sotay_vneid"
MAX_IMPORT_BYTES = 32 * 1024 * 1024


class ClientThrottle(DependencyProvider):
    """`self.throttle()` counts one sign-in attempt for the caller's address (429 past the limit)."""

    def setup(self):
        self.limiter = AddressThrottle(limit=int(config.get("AUTH_ATTEMPTS_PER_MINUTE", 60)))

    def get_dependency(self, worker_ctx):
        return lambda: self.limiter.hit(worker_ctx.context_data.get(CLIENT_ADDRESS_KEY) or "unknown")



class GatewayService(Operations):
    name = "gateway"

    rpc = Rpc()
    caller = Caller()
    throttle = ClientThrottle()
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
        self.throttle()
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

    @api("POST", "/api/v1/auth/activation")
    def start_activation(self, request):
        """Kích hoạt tài khoản lần đầu: gửi mã qua SMS / First sign-in: a code by SMS.
        ---
        post:
          tags: [auth]
          description: >
            With a phone on record the code goes there. Without one (or with a different phone), the phone must
            first be confirmed by an officer of the member's branch: the answer is then `pending_approval`.
            An unknown citizen ID gets an answer of the same shape and nothing is sent.
          requestBody: {required: true, content: {application/json: {schema: CodeRequest}}}
          responses:
            202: {description: code sent or waiting for confirmation, content: {application/json: {schema: CodeAnswer}}}
            400: {description: validation_error / phone_required, content: {application/json: {schema: Error}}}
            403: {description: not_rolled_out, content: {application/json: {schema: Error}}}
            429: {description: too_many_attempts (resend within 60 s, or over 5 an hour), content: {application/json: {schema: Error}}}
        """
        self.throttle()
        return 202, self.rpc.identity.start_activation(load(CodeRequest(), read_json(request)))

    @api("GET", "/api/v1/auth/activation/<activation_id>")
    def activation_status(self, request, activation_id):
        """Trạng thái yêu cầu kích hoạt / Where an activation request stands.
        ---
        get:
          tags: [auth]
          parameters: [{name: activation_id, in: path, required: true, schema: {type: string}}]
          responses:
            200: {description: status, content: {application/json: {schema: CodeAnswer}}}
            404: {description: not_found, content: {application/json: {schema: Error}}}
        """
        return self.rpc.identity.challenge_status(activation_id)

    @api("POST", "/api/v1/auth/activation/<activation_id>/verify")
    def verify_activation(self, request, activation_id):
        """Nhập mã và đặt mật khẩu / Enter the code and choose a password.
        ---
        post:
          tags: [auth]
          parameters: [{name: activation_id, in: path, required: true, schema: {type: string}}]
          requestBody: {required: true, content: {application/json: {schema: CodeVerification}}}
          responses:
            200: {description: activated and signed in, content: {application/json: {schema: TokenPair}}}
            400: {description: invalid_code / code_expired / weak_password / validation_error, content: {application/json: {schema: Error}}}
            409: {description: pending_approval, content: {application/json: {schema: Error}}}
            429: {description: too_many_attempts (5 wrong codes), content: {application/json: {schema: Error}}}
        """
        self.throttle()
        return self.rpc.identity.verify_activation(activation_id, load(CodeVerification(), read_json(request)))

    @api("POST", "/api/v1/auth/password/forgot")
    def start_password_reset(self, request):
        """Quên mật khẩu: gửi mã tới số điện thoại đã xác minh / Forgotten password: a code to the verified phone.
        ---
        post:
          tags: [auth]
          description: A changed phone goes through the same officer confirmation as activation.
          requestBody: {required: true, content: {application/json: {schema: CodeRequest}}}
          responses:
            202: {description: code sent or waiting for confirmation, content: {application/json: {schema: CodeAnswer}}}
            400: {description: validation_error, content: {application/json: {schema: Error}}}
            429: {description: too_many_attempts, content: {application/json: {schema: Error}}}
        """
        self.throttle()
        return 202, self.rpc.identity.start_password_reset(load(CodeRequest(), read_json(request)))

    @api("POST", "/api/v1/auth/password/forgot/<activation_id>/verify")
    def verify_password_reset(self, request, activation_id):
        """Nhập mã và đặt mật khẩu mới / Enter the code and choose a new password (ends every session).
        ---
        post:
          tags: [auth]
          parameters: [{name: activation_id, in: path, required: true, schema: {type: string}}]
          requestBody: {required: true, content: {application/json: {schema: CodeVerification}}}
          responses:
            200: {description: signed in with the new password, content: {application/json: {schema: TokenPair}}}
            400: {description: invalid_code / code_expired / weak_password, content: {application/json: {schema: Error}}}
        """
        self.throttle()
        return self.rpc.identity.verify_password_reset(activation_id, load(CodeVerification(), read_json(request)))

    @api("POST", "/api/v1/auth/password")
    def change_password(self, request):
        """Đổi mật khẩu (đăng xuất các phiên khác) / Change the password (signs out the other sessions).
        ---
        post:
          tags: [auth]
          security: [{bearer: []}]
          requestBody: {required: true, content: {application/json: {schema: PasswordChange}}}
          responses:
            200: {description: changed, content: {application/json: {schema: Status}}}
            400: {description: weak_password / validation_error, content: {application/json: {schema: Error}}}
            401: {description: invalid_credentials (current password) / unauthenticated, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        self.throttle()
        return self.rpc.identity.change_password(load(PasswordChange(), read_json(request)))

    @api("GET", "/api/v1/me/sessions")
    def sessions(self, request):
        """Các phiên đăng nhập của tôi / My signed-in sessions.
        ---
        get:
          tags: [auth]
          security: [{bearer: []}]
          responses:
            200: {description: sessions, content: {application/json: {schema: SessionPage}}}
            401: {description: unauthenticated, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.identity.list_sessions()

    @api("DELETE", "/api/v1/me/sessions/<session_id>")
    def revoke_session(self, request, session_id):
        """Đăng xuất một phiên / Sign one session out.
        ---
        delete:
          tags: [auth]
          security: [{bearer: []}]
          parameters: [{name: session_id, in: path, required: true, schema: {type: string}}]
          responses:
            200: {description: revoked, content: {application/json: {schema: Status}}}
            404: {description: not_found, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.identity.revoke_session(session_id)

    @api("GET", "/api/v1/auth/phone-requests")
    def phone_requests(self, request):
        """Số điện thoại chờ chi bộ xác nhận / Phones waiting for an officer's confirmation.
        ---
        get:
          tags: [auth]
          security: [{bearer: []}]
          description: The requests of members in the officer's organisation and below.
          responses:
            200: {description: pending requests, content: {application/json: {schema: PhoneRequestPage}}}
        """
        self.caller.require()
        return self.rpc.identity.pending_phone_requests()

    @api("POST", "/api/v1/auth/phone-requests/<request_id>/<any(approve, deny):decision>")
    def decide_phone(self, request, request_id, decision):
        """Xác nhận hoặc từ chối số điện thoại / Confirm the phone (the code goes to it) or refuse it (the requester is told).
        ---
        post:
          tags: [auth]
          security: [{bearer: []}]
          parameters:
            - {name: request_id, in: path, required: true, schema: {type: string}}
            - {name: decision, in: path, required: true, schema: {type: string, enum: [approve, deny]}}
          responses:
            200: {description: code sent / denied, content: {application/json: {schema: Status}}}
            404: {description: not_found (or not in the officer's subtree), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.identity.decide_phone_request(request_id, decision == "approve")

    @api("GET", "/api/v1/auth/vneid/login")
    def vneid_login(self, request):
        """Đăng nhập bằng VNeID: chuyển tới VNeID / Sign in with VNeID: redirects to VNeID.
        ---
        get:
          tags: [auth]
          description: >
            OpenID Connect authorization-code flow with PKCE (S256), state and nonce. The browser gets a
            short-lived HttpOnly cookie that binds the flow to it; the callback must come from the same browser.
          responses:
            302: {description: to the VNeID authorize endpoint}
            503: {description: VNeID not configured, content: {application/json: {schema: Error}}}
        """
        self.throttle()
        secret = secrets.token_urlsafe(32)
        url = self.rpc.identity.vneid_begin(secret)["url"]
        response = Response(status=302, headers={"Location": url})
        response.set_cookie(VNEID_COOKIE, secret, max_age=600, path="/api/v1/auth/vneid", httponly=True,
                            samesite="Lax", secure=str(config.get("COOKIE_SECURE", "false")).lower() == "true")
        return response

    @api("GET", "/api/v1/auth/vneid/callback")
    def vneid_callback(self, request):
        """VNeID trả về: kiểm tra và đăng nhập / Back from VNeID: checks and signs in.
        ---
        get:
          tags: [auth]
          parameters:
            - {name: code, in: query, required: true, schema: {type: string}}
            - {name: state, in: query, required: true, schema: {type: string}}
          responses:
            200: {description: signed in (the first VNeID sign-in activates the account), content: {application/json: {schema: TokenPair}}}
            401: {description: vneid_failed (state, nonce, signature, audience, expiry…), content: {application/json: {schema: Error}}}
            403: {description: not_a_member / not_rolled_out, content: {application/json: {schema: Error}}}
        """
        self.throttle()
        if request.args.get("error"):
            raise VneidFailed(message="Đăng nhập VNeID đã bị huỷ hoặc từ chối. / VNeID sign-in was cancelled or refused.",
                              details={"reason": request.args.get("error")[:64]})
        code, state = request.args.get("code"), request.args.get("state")
        if not code or not state:
            raise ValidationError(details={key: ["required"] for key in ("code", "state") if not request.args.get(key)})
        tokens = self.rpc.identity.vneid_complete(state, code, request.cookies.get(VNEID_COOKIE, ""))
        response = json_response(tokens)
        response.delete_cookie(VNEID_COOKIE, path="/api/v1/auth/vneid")
        return response

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

    @api("GET", "/api/v1/organizations/<int:organization_id>/members")
    def organization_members(self, request, organization_id):
        """Đảng viên của tổ chức / Members of an organisation's subtree (search, cursor pages).
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          description: >
            Officers get the records of their subtree; a member gets the names and positions of their own branch.
            `q` is a name (diacritics and case ignored, `nguyen van an` finds `Nguyễn Văn An`), a citizen ID or a
            party card number.
          parameters:
            - {name: organization_id, in: path, required: true, schema: {type: integer}}
            - {name: q, in: query, schema: {type: string}}
            - {name: status, in: query, schema: {type: string}}
            - {name: cursor, in: query, schema: {type: string}}
            - {name: limit, in: query, schema: {type: integer, maximum: 200}}
          responses:
            200: {description: a page, content: {application/json: {schema: MemberPage}}}
            404: {description: not_found (or not visible), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        params = {k: v for k, v in request.args.items() if k in ("q", "status", "cursor", "limit")}
        return self.rpc.members.list_members(organization_id, params)

    @api("GET", "/api/v1/organizations/<int:organization_id>/stats")
    def organization_stats(self, request, organization_id):
        """Số liệu của cấp uỷ / A committee's figures: members by status, gender, age band, and uptake.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: figures for the whole subtree, content: {application/json: {schema: Stats}}}
            404: {description: not_found (or not the caller's scope), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.organization_stats(organization_id)

    @api("POST", "/api/v1/organizations/<int:organization_id>/children")
    def create_organization(self, request, organization_id):
        """Lập tổ chức trực thuộc / Create an organisation below this one.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {code: {type: string}, name: {type: string}}}}}}
          responses:
            201: {description: created, content: {application/json: {schema: OrganizationOut}}}
        """
        self.caller.require()
        return 201, self.rpc.members.create_organization(organization_id, read_json(request))

    @api("PATCH", "/api/v1/organizations/<int:organization_id>")
    def update_organization(self, request, organization_id):
        """Đổi tên hoặc chuyển tổ chức / Rename an organisation or move it under another parent.
        ---
        patch:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {name: {type: string}, parent_id: {type: integer}}}}}}
          responses:
            200: {description: the organisation, content: {application/json: {schema: OrganizationOut}}}
        """
        self.caller.require()
        return self.rpc.members.update_organization(organization_id, read_json(request))

    @api("POST", "/api/v1/organizations/<int:organization_id>/merge")
    def merge_organization(self, request, organization_id):
        """Hợp nhất tổ chức / Dissolve this organisation into another of its level.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: MergeRequest}}}
          responses:
            200: {description: the organisation that took over, content: {application/json: {schema: OrganizationOut}}}
        """
        self.caller.require()
        return self.rpc.members.merge_organization(organization_id, load(MergeRequest(), read_json(request))["into"])

    @api("PUT", "/api/v1/organizations/<int:organization_id>/rollout")
    def rollout(self, request, organization_id):
        """Triển khai Sổ tay cho cấp uỷ / Switch a committee to disabled, pilot or live (system administrators).
        ---
        put:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: organization_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: RolloutChange}}}
          responses:
            200: {description: the organisation, content: {application/json: {schema: OrganizationOut}}}
            403: {description: forbidden, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.set_rollout(organization_id, load(RolloutChange(), read_json(request))["state"])

    @api("POST", "/api/v1/members")
    def create_member(self, request):
        """Thêm đảng viên / Add a member (officers, in their subtree).
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
          responses:
            201: {description: created, content: {application/json: {schema: MemberOut}}}
        """
        self.caller.require()
        return 201, self.rpc.members.create_member(read_json(request))

    @api("GET", "/api/v1/members/<int:member_id>")
    def get_member(self, request, member_id):
        """Hồ sơ đảng viên / A member's record (themselves, or officers of their subtree).
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: the record, content: {application/json: {schema: MemberOut}}}
            404: {description: not_found (or not visible), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.members.get_member(member_id)

    @api("PATCH", "/api/v1/members/<int:member_id>")
    def update_member(self, request, member_id):
        """Sửa hồ sơ đảng viên / Change a member's record (officers); leaving states need their date and reason.
        ---
        patch:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
          responses:
            200: {description: the record, content: {application/json: {schema: MemberOut}}}
        """
        self.caller.require()
        return self.rpc.members.update_member(member_id, read_json(request))

    @api("PATCH", "/api/v1/me")
    def update_me(self, request):
        """Cập nhật thông tin của tôi / Change my data: contact at once, core data by request to the secretary.
        ---
        patch:
          tags: [members]
          security: [{bearer: []}]
          requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
          responses:
            200: {description: "{member, change_request}"}
        """
        self.caller.require()
        return self.rpc.members.update_me(read_json(request))

    @api("GET", "/api/v1/change-requests")
    def change_requests(self, request):
        """Yêu cầu sửa hồ sơ chờ duyệt / Change requests waiting for this secretary.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          responses:
            200: {description: pending requests}
        """
        self.caller.require()
        return self.rpc.members.change_requests()

    @api("POST", "/api/v1/change-requests/<int:request_id>/<any(approve, reject):decision>")
    def decide_change_request(self, request, request_id, decision):
        """Duyệt hoặc từ chối yêu cầu sửa hồ sơ / Approve or reject a change request.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters:
            - {name: request_id, in: path, required: true, schema: {type: integer}}
            - {name: decision, in: path, required: true, schema: {type: string, enum: [approve, reject]}}
          requestBody: {content: {application/json: {schema: Decision}}}
          responses:
            200: {description: the decided request}
        """
        self.caller.require()
        body = load(Decision(), read_json(request)) if request.get_data() else {"reason": None}
        return self.rpc.members.decide_change_request(request_id, decision == "approve", body["reason"])

    @api("POST", "/api/v1/members/<int:member_id>/transfers")
    def issue_transfer(self, request, member_id):
        """Chuyển sinh hoạt đảng / Issue a transfer (official or temporary) to another organisation.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {to_organization_id: {type: integer}, kind: {type: string, enum: [official, temporary]}, note: {type: string}}}}}}
          responses:
            201: {description: issued}
        """
        self.caller.require()
        return 201, self.rpc.members.issue_transfer(member_id, read_json(request))

    @api("GET", "/api/v1/transfers/incoming")
    def incoming_transfers(self, request):
        """Giấy chuyển đến chờ tiếp nhận / Transfers waiting for this organisation to accept.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          responses:
            200: {description: issued transfers into the caller's scope}
        """
        self.caller.require()
        return self.rpc.members.incoming_transfers()

    @api("POST", "/api/v1/transfers/<int:transfer_id>/accept")
    def accept_transfer(self, request, transfer_id):
        """Tiếp nhận đảng viên chuyển đến / Accept a transfer: the member's organisation changes.
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: transfer_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: accepted}
        """
        self.caller.require()
        return self.rpc.members.accept_transfer(transfer_id)

    @api("GET,POST", "/api/v1/members/<int:member_id>/records")
    def records(self, request, member_id):
        """Hồ sơ điện tử: quá trình công tác, khen thưởng, kỷ luật / The digital file.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: the entries}
        post:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          requestBody: {required: true, content: {application/json: {schema: {type: object, properties: {kind: {type: string, enum: [work_history, reward, discipline]}, title: {type: string}}}}}}
          responses:
            201: {description: added}
        """
        self.caller.require()
        if request.method == "GET":
            return self.rpc.members.list_records(member_id)
        return 201, self.rpc.members.add_record(member_id, read_json(request))

    @api("POST", "/api/v1/imports")
    def start_import(self, request):
        """Nhập dữ liệu đảng viên / Import the Party member database export (system administrators).
        ---
        post:
          tags: [members]
          security: [{bearer: []}]
          description: >
            A `text/csv` body, or `multipart/form-data` with a `file` (CSV or XLSX), at most 32 MiB (the CLI
            `make import FILE=…` takes any size). `?dry_run=true` validates only. Runs in the background.
          parameters: [{name: dry_run, in: query, schema: {type: boolean}}]
          responses:
            202: {description: started, content: {application/json: {schema: ImportJob}}}
            400: {description: validation_error, content: {application/json: {schema: Error}}}
            403: {description: forbidden, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        request.max_content_length = MAX_IMPORT_BYTES
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None:
                raise ValidationError(details={"file": ["required"]})
            content, filename = upload.read(), upload.filename or ""
        else:
            content, filename = request.get_data(), "upload.csv"
        dry_run = request.args.get("dry_run", "false").lower() in ("1", "true", "yes")
        encoded = base64.b64encode(content).decode()
        return 202, self.rpc.members.start_import(filename, encoded, dry_run)

    @api("GET", "/api/v1/imports/<job_id>")
    def import_status(self, request, job_id):
        """Tiến độ nhập dữ liệu / Where an import stands.
        ---
        get:
          tags: [members]
          security: [{bearer: []}]
          parameters: [{name: job_id, in: path, required: true, schema: {type: string}}]
          responses:
            200: {description: the job, content: {application/json: {schema: ImportJob}}}
        """
        self.caller.require()
        return self.rpc.members.import_status(job_id)

    @api("GET", "/api/v1/openapi.json")
    def openapi(self, request):
        return openapi.build(type(self))
