"""notify's public contract: a member's inbox, preferences and devices as the gateway sends them on."""
from marshmallow import Schema, fields, validate

from shared.contracts.common import JsonDateTime
from shared.validation import StoredInteger

CATEGORIES = ("announcements", "records", "meetings", "study", "security")
CHANNELS = ("sms", "email", "push")
LANGUAGES = ("vi", "en")


class InboxQuery(Schema):
    unread = fields.Boolean(load_default=None)
    cursor = fields.String(load_default=None, validate=validate.Length(max=64))
    limit = StoredInteger(load_default=50, validate=validate.Range(min=1, max=200))


class Notification(Schema):
    id = fields.Integer(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = fields.String(required=True)
    body = fields.String(required=True)
    created_at = JsonDateTime(required=True)
    read = fields.Boolean(required=True)


class Inbox(Schema):
    items = fields.List(fields.Nested(Notification), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    unread = fields.Integer(required=True, metadata={"description": "unread in the whole inbox"})


class Marked(Schema):
    marked = fields.Integer(required=True, metadata={"description": "how many became read"})


class Preference(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    enabled = fields.Boolean(required=True)
    mandatory = fields.Boolean(required=True, metadata={"description": "codes and security: always sent"})


class Preferences(Schema):
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    items = fields.List(fields.Nested(Preference), required=True)


class Device(Schema):
    id = fields.Integer(required=True)
    platform = fields.String(required=True, validate=validate.OneOf(("web", "android", "ios")))
