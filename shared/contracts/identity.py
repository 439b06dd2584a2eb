"""identity's contract: sign-in request bodies, the errors sign-in answers with, and identity's events."""

from marshmallow import Schema, fields, validate

from shared.contracts.common import CITIZEN_ID, Event, JsonDateTime, Phone, page
from shared.errors import SotayError
from shared.validation import Strict

SESSIONS_ENDED = "identity.sessions_ended"
OTP = validate.Regexp(r"^\d{6}$", error="6 chữ số. / 6 digits.")
PASSWORD = validate.Length(min=1, max=4096)


class LoginRequest(Strict):
    citizen_id = fields.String(required=True, validate=CITIZEN_ID, metadata={"example": "001000000002"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefreshRequest(Strict):
    refresh_token = fields.String(required=True, validate=validate.Length(min=16, max=256))


class CodeRequest(Strict):
    """Activation or reset: the citizen ID, and a phone when none is on record (or it changed)."""

    citizen_id = fields.String(required=True, validate=CITIZEN_ID, metadata={"example": "001000000003"})
    phone = Phone(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "only when no phone is on record, or it changed: an officer of the branch confirms it first"
        },
    )


class CodeVerification(Strict):
    otp = fields.String(required=True, validate=OTP)
    new_password = fields.String(required=True, validate=PASSWORD)


class PasswordChange(Strict):
    current_password = fields.String(required=True, validate=PASSWORD)
    new_password = fields.String(required=True, validate=PASSWORD)


class FreezeRequest(Strict):
    """The "not me" code of a security notice (dashes, spaces and case ignored)."""

    code = fields.String(required=True, validate=validate.Length(min=10, max=32), metadata={"example": "K7QXM-2HRTA"})


class PhoneVerificationRequest(Strict):
    """A phone to confirm in the member's own session; none: the phone now in their member record."""

    phone = Phone(load_default=None, allow_none=True)


class PhoneVerificationConfirm(Strict):
    """The code sent to the phone and the current password (a stolen access token alone is not enough)."""

    otp = fields.String(required=True, validate=OTP)
    current_password = fields.String(required=True, validate=PASSWORD)


class InvalidCredentials(SotayError):
    status = 401
    code = "invalid_credentials"
    message = "Số định danh hoặc mật khẩu không đúng. / The citizen ID or password is incorrect."


class InvalidCode(SotayError):
    status = 400
    code = "invalid_code"
    message = "Mã xác nhận không đúng hoặc đã dùng. / The code is wrong or already used."


class CodeExpired(SotayError):
    status = 400
    code = "code_expired"
    message = "Mã xác nhận đã hết hạn, hãy yêu cầu mã mới. / The code has expired; ask for a new one."


class WeakPassword(SotayError):
    status = 400
    code = "weak_password"
    message = "Mật khẩu mới chưa đạt yêu cầu. / The new password is not acceptable."


class NotRolledOut(SotayError):
    status = 403
    code = "not_rolled_out"
    message = (
        "Đảng bộ của đồng chí chưa triển khai Sổ tay, vui lòng chờ thông báo. / "
        "Your party committee has not started using Sổ tay yet; please wait for its announcement."
    )


class PendingApproval(SotayError):
    status = 409
    code = "pending_approval"
    message = (
        "Yêu cầu đang chờ chi bộ xác nhận số điện thoại. / "
        "The request is waiting for your branch to confirm the phone number."
    )


class AccountFrozen(SotayError):
    status = 403
    code = "account_frozen"
    message = (
        "Tài khoản đang tạm khoá vì có báo cáo thay đổi không phải do đồng chí thực hiện; hãy liên hệ bí thư "
        'chi bộ (hoặc quản trị hệ thống) để được mở lại. / This account is frozen after a "not me" report; '
        "ask your branch secretary (or a system administrator) to release it."
    )


class NotAMember(SotayError):
    status = 403
    code = "not_a_member"
    message = (
        "Số định danh này không có trong cơ sở dữ liệu đảng viên. / "
        "This citizen ID is not in the party member database."
    )


class VneidFailed(SotayError):
    status = 401
    code = "vneid_failed"
    message = "Đăng nhập VNeID không thành công, vui lòng thử lại. / VNeID sign-in failed; please try again."


class AccountActivated(Schema):
    """Who activated (members counts uptake, notify welcomes them) and how; no citizen ID: every consumer
    knows the member by id."""

    member_id = fields.Integer(required=True)
    method = fields.String(required=True, validate=validate.OneOf(("sms", "vneid")))


class PasswordChanged(Schema):
    member_id = fields.Integer(required=True)


class SessionsEnded(Schema):
    """Sign-in sessions that ended (logout, revoked, refresh-token reuse, password change or reset, left the
    party): every service refuses access tokens carrying one of these `sid`s until `until`, when the last
    of them expires. Whose sessions they were is nobody else's business: no member id."""

    session_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)), required=True, validate=validate.Length(min=1)
    )
    until = fields.DateTime(required=True)


class LoginLocked(Schema):
    member_id = fields.Integer(allow_none=True)
    locked_until = fields.DateTime(required=True)


EVENTS = {
    "identity.account_activated": Event(AccountActivated, "A member activated their account."),
    "identity.password_changed": Event(PasswordChanged, "A member's password changed."),
    SESSIONS_ENDED: Event(SessionsEnded, "Sign-in sessions ended: their access tokens are refused."),
    "identity.login_locked": Event(LoginLocked, "Sign-in to an account was locked after failures."),
}


# What the gateway answers (responses are dumped through these: the served document is what is sent)

CHALLENGE_STATUSES = ("code_sent", "pending_approval", "denied", "completed", "failed", "superseded")


OUTCOMES = ("signed_out", "password_changed", "revoked", "code_sent", "denied", "frozen", "released", "verified")


class TokenPair(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(
        metadata={"description": "absent in cookie mode (`X-Refresh-Mode: cookie`): then in an HttpOnly cookie"}
    )
    token_type = fields.String(required=True, validate=validate.Equal("Bearer"))
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class CodeAnswer(Schema):
    """The same keys in the same order whoever asked, member or not."""

    activation_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CHALLENGE_STATUSES))
    channel = fields.String(required=True, validate=validate.Equal("sms"))
    destination = fields.String(required=True, metadata={"example": "+849******78"})


class PhoneVerificationAnswer(Schema):
    id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CHALLENGE_STATUSES))
    channel = fields.String(required=True, validate=validate.Equal("sms"))
    destination = fields.String(required=True, metadata={"example": "+849******78"})


class Outcome(Schema):
    status = fields.String(required=True, validate=validate.OneOf(OUTCOMES))


class Session(Schema):
    id = fields.UUID(required=True)
    started_at = JsonDateTime(required=True)
    last_used_at = JsonDateTime(required=True)
    client_address = fields.String(required=True, allow_none=True)
    user_agent = fields.String(required=True, allow_none=True)
    current = fields.Boolean(required=True)


class PhoneRequest(Schema):
    id = fields.UUID(required=True)
    purpose = fields.String(required=True, validate=validate.OneOf(("activation", "password_reset")))
    member_id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    phone = fields.String(required=True)
    requested_at = JsonDateTime(required=True)


class FrozenAccount(Schema):
    member_id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    frozen_at = JsonDateTime(required=True)


class PasswordPolicy(Schema):
    """What a new password must be, in the words a refusal (`weak_password`) uses: a form shows them as one types."""

    min_length = fields.Integer(required=True)
    max_length = fields.Integer(required=True)
    rules = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": 'reason code → "Việt / English" message, as `weak_password` details give them'},
    )


class Jwks(Schema):
    keys = fields.List(fields.Dict(), required=True)


SessionPage = page(Session, "SessionPage")


PhoneRequestPage = page(PhoneRequest, "PhoneRequestPage")


FrozenAccountPage = page(FrozenAccount, "FrozenAccountPage")
