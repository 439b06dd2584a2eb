"""Vocabulary every service shares: citizen IDs, phone numbers, member statuses, page cursors.

Data and pure functions only (no I/O, no service import), like every module of this package.
"""
import base64
import json
import re
from typing import NamedTuple

from marshmallow import ValidationError as SchemaError, fields, validate

from shared.errors import ValidationError
from shared.validation import INT64_MAX, unstorable_text

class Event(NamedTuple):
    """An event type of a service's catalogue: its payload schema and what the fact means."""
    schema: type
    summary: str


MEMBER_STATUSES = ("probationary", "official", "transferred_out", "removed", "expelled",
                   "resigned", "deceased")
IN_PARTY = MEMBER_STATUSES[:2]   # every other status means the member left the party: no sessions, no sign-in
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
        super().__init__(r"^[0-9]{12}$", error="Số định danh gồm đúng 12 chữ số 0-9. / "
                                               "A citizen ID is exactly 12 digits 0-9.")

    def __call__(self, value):
        if not is_citizen_id(value):
            raise SchemaError(self.error)
        return value


CITIZEN_ID = CitizenId()

# A Vietnamese mobile number, the only kind a code can go to: since 2018 ten digits, 0 then 3/5/7/8/9, stored
# in E.164 (+84 and nine digits). Written as a person types it: 0912345678, +84 912 345 678, 84912345678, 0912.345.678
E164_MOBILE = re.compile(r"\+84[35789][0-9]{8}")
_SEPARATORS = re.compile(r"[\s.\-()]")
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
        metadata = {"example": "0912345678",
                    "description": "Số di động Việt Nam / A Vietnamese mobile number: 0912345678, +84 912 345 678, "
                                   "84912345678; kept as +84912345678", **kwargs.pop("metadata", {})}
        super().__init__(validate=validate.Length(max=32), metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        phone = normalize_phone(super()._deserialize(value, attr, data, **kwargs))
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
    if not (isinstance(values, list) and len(values) == len(kinds)
            and all(_is_kind(value, kind) for value, kind in zip(values, kinds))):
        raise ValidationError(details={"cursor": [NOT_A_CURSOR]})
    return values


def _is_kind(value, kind):
    if kind is int:
        return type(value) is int and 0 <= value <= INT64_MAX
    return type(value) is kind and not unstorable_text(value)
