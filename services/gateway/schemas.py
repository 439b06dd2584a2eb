"""The HTTP contract's bodies (API.md); also the source of /api/v1/openapi.json."""
from marshmallow import RAISE, Schema, fields, validate

from shared.contracts.common import CITIZEN_ID
from shared.validation import StoredInteger


class Strict(Schema):
    class Meta:
        unknown = RAISE


class LoginRequest(Strict):
    citizen_id = fields.String(required=True, validate=CITIZEN_ID, metadata={"example": "001000000002"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefreshRequest(Strict):
    refresh_token = fields.String(required=True, validate=validate.Length(min=16, max=256))


class TokenPair(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class PositionOut(Schema):
    role = fields.String(validate=validate.OneOf(
        ("secretary", "deputy_secretary", "committee_member", "system_administrator")))
    organization_id = fields.Integer()


class MemberOut(Schema):
    id = fields.Integer()
    citizen_id = fields.String()
    full_name = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    gender = fields.String(allow_none=True)
    status = fields.String()
    organization_id = fields.Integer()
    phone = fields.String(allow_none=True)
    party_card_number = fields.String(allow_none=True)
    admission_date = fields.Date(allow_none=True)
    official_date = fields.Date(allow_none=True)
    positions = fields.List(fields.Nested(PositionOut))


class OrganizationOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    level = fields.String(validate=validate.OneOf(("central", "provincial", "grassroots", "branch")))
    parent_id = fields.Integer(allow_none=True)
    rollout = fields.String(validate=validate.OneOf(("disabled", "pilot", "live")))


class OrganizationPage(Schema):
    items = fields.List(fields.Nested(OrganizationOut))
    next_cursor = fields.String(allow_none=True)


class ErrorBody(Schema):
    code = fields.String(metadata={"example": "validation_error"})
    message = fields.String()
    details = fields.Dict()


class Error(Schema):
    error = fields.Nested(ErrorBody)


class Jwks(Schema):
    keys = fields.List(fields.Dict())


class CodeRequest(Strict):
    citizen_id = fields.String(required=True, validate=CITIZEN_ID, metadata={"example": "001000000003"})
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32),
                          metadata={"description": "only when no phone is on record, or it changed: "
                                                   "an officer of the branch confirms it first",
                                    "example": "0912345678"})


class CodeAnswer(Schema):
    activation_id = fields.String()
    status = fields.String(validate=validate.OneOf(("code_sent", "pending_approval", "denied", "completed",
                                                    "failed", "superseded")))
    channel = fields.String(metadata={"example": "sms"})
    destination = fields.String(metadata={"example": "+849******78"})


class CodeVerification(Strict):
    otp = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="6 chữ số. / 6 digits."))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class PasswordChange(Strict):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class SessionOut(Schema):
    id = fields.String()
    started_at = fields.DateTime()
    last_used_at = fields.DateTime()
    client_address = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    current = fields.Boolean()


class SessionPage(Schema):
    items = fields.List(fields.Nested(SessionOut))
    next_cursor = fields.String(allow_none=True)


class PhoneRequestOut(Schema):
    id = fields.String()
    purpose = fields.String(validate=validate.OneOf(("activation", "password_reset")))
    member_id = fields.Integer()
    full_name = fields.String()
    phone = fields.String()
    requested_at = fields.DateTime()


class PhoneRequestPage(Schema):
    items = fields.List(fields.Nested(PhoneRequestOut))
    next_cursor = fields.String(allow_none=True)


class PhoneVerificationAnswer(Schema):
    id = fields.String()
    status = fields.String(metadata={"example": "code_sent"})
    channel = fields.String(metadata={"example": "sms"})
    destination = fields.String(metadata={"example": "+849******78"})


class FrozenAccountOut(Schema):
    member_id = fields.Integer()
    full_name = fields.String()
    frozen_at = fields.DateTime()


class FrozenAccountPage(Schema):
    items = fields.List(fields.Nested(FrozenAccountOut))
    next_cursor = fields.String(allow_none=True)


class Status(Schema):
    status = fields.String()


class MemberPage(Schema):
    items = fields.List(fields.Nested(MemberOut))
    next_cursor = fields.String(allow_none=True)


class Stats(Schema):
    organization_id = fields.Integer()
    total = fields.Integer()
    in_party = fields.Integer(metadata={"description": "probationary + official"})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_gender = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_age_band = fields.Dict(keys=fields.String(), values=fields.Integer())
    uptake = fields.Dict(metadata={"description": "activated / not_activated accounts and the rate"})


class RolloutChange(Strict):
    state = fields.String(required=True, validate=validate.OneOf(("disabled", "pilot", "live")))


class MergeRequest(Strict):
    into = StoredInteger(required=True, metadata={"description": "the organisation that takes everything over"})


class Decision(Strict):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ImportJob(Schema):
    id = fields.String()
    status = fields.String(validate=validate.OneOf(("running", "applying", "completed", "failed")))
    dry_run = fields.Boolean()
    progress = fields.Float(metadata={"description": "0 to 1"})
    processed_rows = fields.Integer()
    total_rows = fields.Integer()
    accepted = fields.Integer()
    rejected = fields.Integer()
    warnings = fields.List(fields.Dict())
    errors = fields.List(fields.Dict(), metadata={"description": "[{row, field, message}], the header is row 1"})
