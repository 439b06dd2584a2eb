"""Vocabulary every service shares: citizen IDs, phone numbers, member statuses, page cursors.

Data and pure functions only (no I/O, no service import), like every module of this package.
"""

import base64
import json
import re
from typing import NamedTuple

from marshmallow import Schema, ValidationError as SchemaError, fields, validate

from shared.errors import ValidationError
from shared.validation import INT64_MAX, unstorable_text


class Event(NamedTuple):
    """An event type of a service's catalogue: its payload schema and what the fact means."""

    schema: type
    summary: str


MEMBER_STATUSES = ("probationary", "official", "transferred_out", "removed", "expelled", "resigned", "deceased")
IN_PARTY = MEMBER_STATUSES[:2]  # every other status means the member left the party: no sessions, no sign-in
LEFT_PARTY = MEMBER_STATUSES[2:]


def left_party(status):
    return status not in IN_PARTY


def is_citizen_id(value):
    """Exactly twelve ASCII digits, the whole string. `\\d` would take full-width or Arabic-Indic digits
    (a visual twin of a real ID) and `$` a trailing newline."""
    return isinstance(value, str) and len(value) == 12 and value.isascii() and value.isdigit()


class CitizenId(validate.Regexp):
    """The marshmallow validator of `is_citizen_id`; the pattern is what OpenAPI documents."""

    def __init__(self):
        super().__init__(
            r"^[0-9]{12}$", error="Số định danh gồm đúng 12 chữ số 0-9. / A citizen ID is exactly 12 digits 0-9."
        )

    def __call__(self, value):
        if not is_citizen_id(value):
            raise SchemaError(self.error)
        return value


CITIZEN_ID = CitizenId()

# A Vietnamese mobile number, the only kind a code can go to: since 2018 ten digits, 0 then 3/5/7/8/9, stored
# in E.164 (+84 and nine digits). Written as a person types it: 0912345678, +84 912 345 678, 84912345678, 0912.345.678
E164_MOBILE = re.compile(r"\+84[35789][0-9]{8}")
_SEPARATORS = re.compile(r"[ .()-]")
_S = "[ .()-]*"
# the same rule as a pattern, for the document: what normalize_phone takes, and nothing else
TYPED_MOBILE = f"^{_S}(\\+{_S}8{_S}4|8{_S}4|0){_S}[35789]({_S}[0-9]){{8}}{_S}$"
NOT_A_MOBILE = "Số điện thoại di động Việt Nam, ví dụ 0912345678. / A Vietnamese mobile number, e.g. 0912345678."


def normalize_phone(raw):
    """The E.164 form of a Vietnamese mobile number as typed, or None when it is not one."""
    digits = _SEPARATORS.sub("", raw) if isinstance(raw, str) else ""
    if digits.startswith("0"):
        digits = "+84" + digits[1:]
    elif digits.startswith("84"):
        digits = "+" + digits
    return digits if E164_MOBILE.fullmatch(digits) else None


class Phone(fields.String):
    """A mobile number in any form `normalize_phone` reads, loaded as its E.164 form."""

    default_error_messages = {"phone": NOT_A_MOBILE}

    def __init__(self, **kwargs):
        # the document's pattern: what a person may type (the rule above then wants a mobile prefix)
        metadata = {
            "example": "0912345678",
            "pattern": TYPED_MOBILE,
            "description": "Số di động Việt Nam / A Vietnamese mobile number: 0912345678, +84 912 345 678, "
            "84912345678; kept as +84912345678",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(validate=validate.Length(max=32), metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        typed = super()._deserialize(value, attr, data, **kwargs)
        if len(typed) > 32:  # the documented maxLength is of what was typed (validators see the E.164 form)
            raise self.make_error("phone")
        phone = normalize_phone(typed)
        if phone is None:
            raise self.make_error("phone")
        return phone


NOT_A_CURSOR = "Không hợp lệ. / Not a cursor this API gave."


def encode_cursor(*values):
    """A page cursor: the sort key of the last row given (strings and integers), opaque to the client."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor, *kinds):
    """The values `encode_cursor` wrote, of the `kinds` given (str, int), or our 400: a cursor anyone
    altered into another shape (a float, a bool, an integer no column holds, a lone surrogate) is refused."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (TypeError, ValueError):
        values = None
    if not (
        isinstance(values, list)
        and len(values) == len(kinds)
        and all(_is_kind(value, kind) for value, kind in zip(values, kinds, strict=True))
    ):
        raise ValidationError(details={"cursor": [NOT_A_CURSOR]})
    return values


def _is_kind(value, kind):
    if kind is int:
        return type(value) is int and 0 <= value <= INT64_MAX
    return type(value) is kind and not unstorable_text(value)


# JSON as it is on the wire, and the shapes every answer shares


class JsonBoolean(fields.Boolean):
    """`true` or `false` as JSON has them: 0, 1, "yes" are no booleans in a body (marshmallow takes them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class JsonDate(fields.Date):
    """A date as the owning service sent it (ISO 8601 text): checked on load, passed on unchanged by a dump."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class JsonDateTime(fields.AwareDateTime):
    """A moment as the owning service sent it (ISO 8601 text with its offset: RFC 3339 has no other)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


def page(item, name):
    """`{items, next_cursor}` of `item` (a schema class or instance): every list the API answers."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(required=True, allow_none=True),
        },
        name=name,
    )


class ErrorBody(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True, metadata={"description": "Việt / English"})
    details = fields.Dict(required=True)


class Error(Schema):
    """Every error answer (API.md)."""

    error = fields.Nested(ErrorBody, required=True)
