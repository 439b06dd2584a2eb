"""Validation of what members accepts over RPC (the gateway validates HTTP too)."""
from marshmallow import RAISE, Schema, fields, validate

from shared.events import CITIZEN_ID, MEMBER_STATUSES

PHONE = validate.Regexp(r"^\+84\d{9,10}$", error="phone must be E.164 (+84…)")


class MemberCreate(Schema):
    class Meta:
        unknown = RAISE

    citizen_id = fields.String(required=True, validate=CITIZEN_ID)
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    date_of_birth = fields.Date(allow_none=True, load_default=None)
    gender = fields.String(validate=validate.OneOf(("male", "female")), allow_none=True, load_default=None)
    status = fields.String(required=True, validate=validate.OneOf(MEMBER_STATUSES[:2]))
    organization_id = fields.Integer(required=True)
    phone = fields.String(validate=PHONE, allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)
    party_card_number = fields.String(validate=validate.Length(max=32), allow_none=True, load_default=None)
    admission_date = fields.Date(allow_none=True, load_default=None)
    official_date = fields.Date(allow_none=True, load_default=None)
