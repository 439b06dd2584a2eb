from marshmallow import RAISE, Schema, fields, validate

E164 = validate.Regexp(r"^\+84\d{9,10}$")


class SmsRequest(Schema):
    class Meta:
        unknown = RAISE

    to = fields.String(required=True, validate=E164)
    text = fields.String(required=True, validate=validate.Length(min=1, max=640))


class InboxQuery(Schema):
    class Meta:
        unknown = RAISE

    unread = fields.Boolean(load_default=None)
    cursor = fields.String(load_default=None, validate=validate.Length(max=64))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PreferenceItem(Schema):
    class Meta:
        unknown = RAISE

    category = fields.String(required=True, validate=validate.OneOf(
        ("announcements", "records", "meetings", "study", "security")))
    channel = fields.String(required=True, validate=validate.OneOf(("sms", "email", "push")))
    enabled = fields.Boolean(required=True)


class PreferencesUpdate(Schema):
    class Meta:
        unknown = RAISE

    items = fields.List(fields.Nested(PreferenceItem), load_default=list, validate=validate.Length(max=50))
    language = fields.String(load_default=None, validate=validate.OneOf(("vi", "en")))


class DeviceRegistration(Schema):
    class Meta:
        unknown = RAISE

    platform = fields.String(required=True, validate=validate.OneOf(("web", "android", "ios")))
    token = fields.String(required=True, validate=validate.Length(min=8, max=4096))
