"""What identity accepts over RPC."""
from marshmallow import RAISE, Schema, fields, validate

from shared.contract import FreezeRequest, PhoneVerificationConfirm, PhoneVerificationRequest
from shared.events import CITIZEN_ID


class LoginRequest(Schema):
    class Meta:
        unknown = RAISE

    citizen_id = fields.String(required=True, validate=CITIZEN_ID)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefreshRequest(Schema):
    class Meta:
        unknown = RAISE

    refresh_token = fields.String(required=True, validate=validate.Length(min=16, max=256))


class CodeRequest(Schema):
    """Activation or reset: the citizen ID, and a phone when none is on record (or it changed)."""
    class Meta:
        unknown = RAISE

    citizen_id = fields.String(required=True, validate=CITIZEN_ID)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class CodeVerification(Schema):
    class Meta:
        unknown = RAISE

    otp = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="6 chữ số. / 6 digits."))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class PasswordChange(Schema):
    class Meta:
        unknown = RAISE

    current_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))

__all__ = ["LoginRequest", "RefreshRequest", "CodeRequest", "CodeVerification", "PasswordChange", "FreezeRequest",
           "PhoneVerificationConfirm", "PhoneVerificationRequest"]
