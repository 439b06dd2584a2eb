"""What every service's contract shares."""
from marshmallow import Schema, fields


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
    return Schema.from_dict({"items": fields.List(fields.Nested(item), required=True),
                             "next_cursor": fields.String(required=True, allow_none=True)}, name=name)


class ErrorBody(Schema):
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True, metadata={"description": "Việt / English"})
    details = fields.Dict(required=True)


class Error(Schema):
    """Every error answer (API.md)."""
    error = fields.Nested(ErrorBody, required=True)
