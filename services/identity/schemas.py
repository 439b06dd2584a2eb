"""What identity accepts over RPC."""
from marshmallow import RAISE, Schema, fields, validate

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
