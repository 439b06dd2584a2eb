"""notify's contract: what members ask of their inbox and preferences, what identity hands it to send,
and the event of a message that could not be delivered."""

from marshmallow import Schema, fields, validate

from shared.contracts.common import Event, JsonBoolean, JsonDateTime, Phone
from shared.validation import StoredInteger, Strict

CATEGORIES = ("announcements", "records", "meetings", "study", "security")
CHANNELS = ("sms", "email", "push")
LANGUAGES = ("vi", "en")
PLATFORMS = ("web", "android", "ios")


class PreferenceItem(Strict):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    enabled = JsonBoolean(required=True)


class PreferencesUpdate(Strict):
    items = fields.List(fields.Nested(PreferenceItem), load_default=list, validate=validate.Length(max=50))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))


class DeviceRegistration(Strict):
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    token = fields.String(required=True, validate=validate.Length(min=8, max=4096))


class InboxQuery(Strict):
    unread = fields.Boolean(load_default=None)
    cursor = fields.String(load_default=None, validate=validate.Length(max=64))
    limit = StoredInteger(load_default=50, validate=validate.Range(min=1, max=200))


class SmsRequest(Strict):
    """A one-time code identity hands over, sent at once on its own path."""

    to = Phone(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=640))
    # until when the code is worth sending: an interrupted send is not retried after it
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)


class SecurityNotice(Strict):
    """A notice identity sends to a phone or address trusted before a change (with its "not me" code)."""

    phone = Phone(load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=255))
    text = fields.String(required=True, validate=validate.Length(min=1, max=640))


class DeliveryFailed(Schema):
    """For operators: no recipient, no text (the reason names the channel's failure only)."""

    channel = fields.String(required=True)
    reason = fields.String(required=True)


EVENTS = {
    "notify.delivery_failed": Event(DeliveryFailed, "A message could not be delivered."),
}


# What the gateway answers (responses are dumped through these: the served document is what is sent)


INBOX_KINDS = ("notification", "publication")


class Notification(Schema):
    """An inbox item: a message to the member, or a document published to their organisation or one above it."""

    id = fields.Integer(
        required=True,
        metadata={"description": "what `POST /me/notifications/{id}/read` takes; unique across both kinds"},
    )
    kind = fields.String(
        validate=validate.OneOf(INBOX_KINDS),
        metadata={"description": "a message to the member, or a document for their organisations"},
    )
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    title = fields.String(required=True)
    body = fields.String(required=True)
    created_at = JsonDateTime(required=True, metadata={"description": "a publication: when it was published"})
    read = fields.Boolean(required=True)
    document_id = fields.Integer(allow_none=True, metadata={"description": "a publication: its document (content)"})
    meeting_id = fields.Integer(allow_none=True, metadata={"description": "a meeting's message: the meeting"})


class Inbox(Schema):
    items = fields.List(fields.Nested(Notification), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
    unread = fields.Integer(
        required=True, metadata={"description": "unread in the whole inbox (notifications and publications)"}
    )


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


class PushKey(Schema):
    key = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "VAPID application server key (base64url); null: no Web Push here"},
    )


class Device(Schema):
    id = fields.Integer(required=True)
    platform = fields.String(required=True, validate=validate.OneOf(("web", "android", "ios")))
