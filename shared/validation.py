"""Schema loading that fails with our 400 `validation_error` and per-field details, and the checks
every JSON body passes before any schema sees it (at the gateway's edge and again in each service).

A body is refused when it nests deeper than MAX_DEPTH, holds a string that cannot be stored or
encoded (a lone surrogate such as "\\ud800", or NUL), or an integer outside what a database column
holds (64 bits). Integer fields use `StoredInteger`, so `1e30` or "2**63" is a 400, never an overflow.
"""

import unicodedata
from functools import cache

from marshmallow import RAISE, Schema, ValidationError as SchemaError, fields

from shared.errors import ValidationError

MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UNSTORABLE = "Chuỗi chứa ký tự không hợp lệ. / A text contains a character that is not allowed."
TOO_LARGE = "Số nguyên vượt quá giới hạn. / The integer is out of range."


def unstorable_text(text):
    """A lone surrogate (it cannot be encoded) or NUL (PostgreSQL refuses it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return "\x00" in text


def refuse_unstorable(data):
    """Our 400 if `data` (a decoded JSON value) nests too deep or holds a value no service can store."""
    pending = [(data, 1, "_body")]
    while pending:
        value, depth, where = pending.pop()
        if depth > MAX_DEPTH:
            raise ValidationError(details={"_body": [f"Lồng quá {MAX_DEPTH} tầng. / Nested over {MAX_DEPTH} levels."]})
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and unstorable_text(key):
                    raise ValidationError(details={"_body": [UNSTORABLE]})
                pending.append((item, depth + 1, key if depth == 1 else where))
        elif isinstance(value, list):
            pending.extend((item, depth + 1, where) for item in value)
        elif isinstance(value, str):
            if unstorable_text(value):
                raise ValidationError(details={where: [UNSTORABLE]})
        elif isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                raise ValidationError(details={where: [TOO_LARGE]})
    return data


class Strict(Schema):
    """A request body: a field it does not name is refused, not ignored."""

    class Meta:
        unknown = RAISE


def no_control_characters(value):
    """Text a person typed: a NUL or other control character is refused (PostgreSQL cannot even compare a NUL)."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise SchemaError("Có ký tự điều khiển. / Contains a control character.")


def written_text(value):
    """Text a person wrote over several lines: line breaks and tabs are text, other control characters are not."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise SchemaError("Có ký tự điều khiển. / Contains a control character.")


class StoredInteger(fields.Integer):
    """An integer a database column holds: 64 bits, whatever the client sent (1e30, 2**63, "9" * 30)."""

    default_error_messages = {"range": TOO_LARGE}

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)  # 1.5 is no id, not a rounded one
        number = super()._validated(value)
        if not INT64_MIN <= number <= INT64_MAX:
            raise self.make_error("range")
        return number


@cache
def instance(schema_class) -> Schema:
    """One instance per schema class, reused by every call: building a marshmallow schema copies and binds all its
    fields (a twentieth of a check-in's CPU in meetings, bench/README.md); loading or validating with one changes
    nothing in it."""
    return schema_class()


def load(schema, data):
    try:
        return schema.load(refuse_unstorable(data if isinstance(data, dict) else {}))
    except SchemaError as exc:
        raise ValidationError(details=exc.messages) from None


def check(schema, data):
    """`data` unchanged if `schema` accepts it (to pass on as JSON), else our 400."""
    errors = schema.validate(refuse_unstorable(data if isinstance(data, dict) else {}))
    if errors:
        raise ValidationError(details=errors)
    return data
