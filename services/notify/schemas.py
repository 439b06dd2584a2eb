from marshmallow import RAISE, Schema, fields, validate

from shared.contract import PreferenceItem, PreferencesUpdate, DeviceRegistration
from shared.validation import StoredInteger

E164 = validate.Regexp(r"^\+84\d{9,10}$")


class SmsRequest(Schema):
    class Meta:
        unknown = RAISE

    to = fields.String(required=True, validate=E164)
    text = fields.String(required=True, validate=validate.Length(min=1, max=640))
    # until when the code is worth sending: an interrupted send is not retried after it
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)


class SecurityNotice(Schema):
    class Meta:
        unknown = RAISE

    phone = fields.String(load_default=None, allow_none=True, validate=E164)
    email = fields.Email(load_default=None, allow_none=True)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=255))
    text = fields.String(required=True, validate=validate.Length(min=1, max=640))


class InboxQuery(Schema):
    class Meta:
        unknown = RAISE

    unread = fields.Boolean(load_default=None)
    cursor = fields.String(load_default=None, validate=validate.Length(max=64))
    limit = StoredInteger(load_default=50, validate=validate.Range(min=1, max=200))

__all__ = ["SmsRequest", "SecurityNotice", "InboxQuery", "PreferenceItem", "PreferencesUpdate", "DeviceRegistration"]
