"""identity's public contract: the sign-in bodies the gateway checks and the answers it sends on."""
from marshmallow import Schema, fields, validate

from shared.contracts.common import JsonDateTime, page
from shared.events import CITIZEN_ID

OTP = validate.Regexp(r"^\d{6}$", error="6 chữ số. / 6 digits.")
# a Vietnamese mobile as people type it (0912 345 678, +84 912…, 84912…): identity normalises it to E.164
TYPED_PHONE = validate.Regexp(r"^(\+84|84|0)([ .()-]?[0-9]){9,10}$",
                              error="Số di động Việt Nam, ví dụ 0912345678. / A Vietnamese mobile, e.g. 0912345678.")
CHALLENGE_STATUSES = ("code_sent", "pending_approval", "denied", "completed", "failed", "superseded")
OUTCOMES = ("signed_out", "password_changed", "revoked", "code_sent", "denied", "frozen", "released", "verified")


class LoginRequest(Schema):
    citizen_id = fields.String(required=True, validate=CITIZEN_ID, metadata={"example": "001000000002"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefreshRequest(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=16, max=256))


class CodeRequest(Schema):
    """Activation or reset: the citizen ID, and a phone when none is on record (or it changed)."""
    citizen_id = fields.String(required=True, validate=CITIZEN_ID, metadata={"example": "001000000003"})
    phone = fields.String(load_default=None, allow_none=True, validate=TYPED_PHONE,
                          metadata={"description": "only when no phone is on record, or it changed: "
                                                   "an officer of the branch confirms it first",
                                    "example": "0912345678"})


class CodeVerification(Schema):
    otp = fields.String(required=True, validate=OTP)
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class PasswordChange(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class TokenPair(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
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


class Jwks(Schema):
    keys = fields.List(fields.Dict(), required=True)


SessionPage = page(Session, "SessionPage")
PhoneRequestPage = page(PhoneRequest, "PhoneRequestPage")
FrozenAccountPage = page(FrozenAccount, "FrozenAccountPage")
