"""The gateway's sign-in routes: every way a member signs in, sessions, phone confirmations.

A mixin of GatewayService (it brings `rpc`, `caller` and `throttle`).
"""
import secrets

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Response

from shared import config
from shared.context import CLIENT_ADDRESS_KEY
from shared.contracts.identity import FreezeRequest, PhoneVerificationConfirm, PhoneVerificationRequest, VneidFailed
from shared.errors import ValidationError
from shared.http import api, json_response, read_json
from shared.validation import check, load
from services.gateway.schemas import CodeRequest, CodeVerification, LoginRequest, PasswordChange, RefreshRequest
from services.gateway.throttle import AddressThrottle

VNEID_COOKIE = "sotay_vneid"


class ClientThrottle(DependencyProvider):
    """`self.throttle()` counts one sign-in attempt for the caller's address (429 past the limit)."""

    def setup(self):
        self.limiter = AddressThrottle(limit=int(config.get("AUTH_ATTEMPTS_PER_MINUTE", 60)))

    def get_dependency(self, worker_ctx):
        return lambda: self.limiter.hit(worker_ctx.context_data.get(CLIENT_ADDRESS_KEY) or "unknown")


class AuthRoutes:
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
            401: {description: "invalid_credentials: the same answer whether the account does not exist, was never activated (first sign-in starts at /auth/activation) or the password is wrong", content: {application/json: {schema: Error}}}
            403: {description: account_frozen (after a right password; "not me" was reported), content: {application/json: {schema: Error}}}
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
            The code goes to the member's trusted phone: the one imported from the party member database, or one a
            code reached and was entered. A phone given that is not it must first be confirmed by an officer of the
            member's current organisation (a system administrator for accounts holding a position): the answer is
            then `pending_approval`. Whoever asks, member or not, gets an answer of the same form (a UUIDv4 id, the
            same keys in the same order, the same follow-ups); nothing is sent for an unknown citizen ID, nor when
            no code may go out now (no trusted phone: ask again with `phone` if no code arrives; committee not rolled
            out yet: the member is told by SMS).
          requestBody: {required: true, content: {application/json: {schema: CodeRequest}}}
          responses:
            202: {description: code sent or waiting for confirmation, content: {application/json: {schema: CodeAnswer}}}
            400: {description: validation_error, content: {application/json: {schema: Error}}}
            429: {description: "too_many_attempts (a new request within 60 s, over 5 an hour per citizen ID, or over the limit per client address)", content: {application/json: {schema: Error}}}
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
          description: >
            Like activation: the code goes to the trusted phone; another phone needs an officer's (for position
            holders, a system administrator's) confirmation; the same form of answer for anyone. The phone and
            e-mail trusted before are told, with a "not me" code.
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
          description: >
            The requests of members without any position whose current organisation is the officer's or below,
            never the officer's own (position holders recover through `/auth/recovery-requests`).
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

    @api("GET", "/api/v1/auth/recovery-requests")
    def recovery_requests(self, request):
        """Khôi phục tài khoản có chức vụ chờ quản trị hệ thống / Recovery of position holders' accounts.
        ---
        get:
          tags: [auth]
          security: [{bearer: []}]
          description: >
            A new phone for an account that holds any position (administrators included) is confirmed by a system
            administrator, never by an officer, and never by the requester.
          responses:
            200: {description: pending requests, content: {application/json: {schema: PhoneRequestPage}}}
            403: {description: forbidden (not a system administrator), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.identity.recovery_requests()

    @api("POST", "/api/v1/auth/recovery-requests/<request_id>/<any(approve, deny):decision>")
    def decide_recovery(self, request, request_id, decision):
        """Quản trị hệ thống xác nhận hoặc từ chối / A system administrator confirms or refuses the phone.
        ---
        post:
          tags: [auth]
          security: [{bearer: []}]
          parameters:
            - {name: request_id, in: path, required: true, schema: {type: string}}
            - {name: decision, in: path, required: true, schema: {type: string, enum: [approve, deny]}}
          responses:
            200: {description: code sent / denied, content: {application/json: {schema: Status}}}
            400: {description: already decided, content: {application/json: {schema: Error}}}
            403: {description: forbidden (not a system administrator), content: {application/json: {schema: Error}}}
            404: {description: not_found (or the requester's own), content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.identity.decide_recovery_request(request_id, decision == "approve")

    @api("POST", "/api/v1/auth/freeze")
    def freeze(self, request):
        """"Không phải tôi": khoá tài khoản / "Not me": freeze the account (no sign-in needed).
        ---
        post:
          tags: [auth]
          description: >
            The code of a security notice (sent to the trusted phone and e-mail on every phone change and password
            reset). Every session ends; sign-in and resets are refused until an officer (position holders: a system
            administrator) releases the account.
          requestBody: {required: true, content: {application/json: {schema: FreezeRequest}}}
          responses:
            200: {description: frozen, content: {application/json: {schema: Status}}}
            400: {description: invalid_code / validation_error, content: {application/json: {schema: Error}}}
            429: {description: too_many_attempts, content: {application/json: {schema: Error}}}
        """
        self.throttle()
        return self.rpc.identity.freeze(check(FreezeRequest(), read_json(request)))

    @api("GET", "/api/v1/auth/frozen-accounts")
    def frozen_accounts(self, request):
        """Tài khoản đang tạm khoá chờ xem xét / Frozen accounts waiting for review.
        ---
        get:
          tags: [auth]
          security: [{bearer: []}]
          description: Those this officer may release (position holders' are for system administrators).
          responses:
            200: {description: frozen accounts, content: {application/json: {schema: FrozenAccountPage}}}
        """
        self.caller.require()
        return self.rpc.identity.frozen_accounts()

    @api("POST", "/api/v1/auth/frozen-accounts/<int:member_id>/release")
    def release_account(self, request, member_id):
        """Mở lại tài khoản đã khoá / Release a frozen account after review.
        ---
        post:
          tags: [auth]
          security: [{bearer: []}]
          parameters: [{name: member_id, in: path, required: true, schema: {type: integer}}]
          responses:
            200: {description: released, content: {application/json: {schema: Status}}}
            404: {description: "not_found (not frozen, or not this officer's to release)", content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        return self.rpc.identity.release_account(member_id)

    @api("POST", "/api/v1/me/phone-verification")
    def start_phone_verification(self, request):
        """Xác minh số điện thoại mới / Confirm a new phone: a code goes to it.
        ---
        post:
          tags: [auth]
          security: [{bearer: []}]
          description: >
            Without `phone`, the phone now in the member record. The phone becomes where reset codes go only once
            its code and the current password are entered (`/me/phone-verification/{id}/verify`).
          requestBody: {required: false, content: {application/json: {schema: PhoneVerificationRequest}}}
          responses:
            202: {description: code sent, content: {application/json: {schema: PhoneVerificationAnswer}}}
            400: {description: validation_error, content: {application/json: {schema: Error}}}
            429: {description: too_many_attempts, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        self.throttle()
        body = read_json(request) if request.get_data() else {}
        return 202, self.rpc.identity.start_phone_verification(check(PhoneVerificationRequest(), body))

    @api("POST", "/api/v1/me/phone-verification/<verification_id>/verify")
    def confirm_phone_verification(self, request, verification_id):
        """Nhập mã và mật khẩu hiện tại / Enter the code and the current password: the phone is confirmed.
        ---
        post:
          tags: [auth]
          security: [{bearer: []}]
          parameters: [{name: verification_id, in: path, required: true, schema: {type: string}}]
          requestBody: {required: true, content: {application/json: {schema: PhoneVerificationConfirm}}}
          responses:
            200: {description: verified, content: {application/json: {schema: Status}}}
            400: {description: invalid_code / code_expired / validation_error, content: {application/json: {schema: Error}}}
            401: {description: invalid_credentials (current password), content: {application/json: {schema: Error}}}
            404: {description: not_found, content: {application/json: {schema: Error}}}
            429: {description: too_many_attempts, content: {application/json: {schema: Error}}}
        """
        self.caller.require()
        self.throttle()
        return self.rpc.identity.confirm_phone_verification(
            verification_id, check(PhoneVerificationConfirm(), read_json(request)))

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
            - {name: iss, in: query, required: false, description: the issuer of the response (RFC 9207), schema: {type: string}}
          responses:
            200: {description: signed in (the first VNeID sign-in activates the account), content: {application/json: {schema: TokenPair}}}
            401: {description: "vneid_failed (state, nonce, signature, audience, expiry…)", content: {application/json: {schema: Error}}}
            403: {description: not_a_member / not_rolled_out, content: {application/json: {schema: Error}}}
        """
        self.throttle()
        if request.args.get("error"):
            raise VneidFailed(message="Đăng nhập VNeID đã bị huỷ hoặc từ chối. / VNeID sign-in was cancelled or refused.",
                              details={"reason": request.args.get("error")[:64]})
        code, state = request.args.get("code"), request.args.get("state")
        if not code or not state:
            raise ValidationError(details={key: ["required"] for key in ("code", "state") if not request.args.get(key)})
        tokens = self.rpc.identity.vneid_complete(state, code, request.cookies.get(VNEID_COOKIE, ""),
                                                  iss=request.args.get("iss"))
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
