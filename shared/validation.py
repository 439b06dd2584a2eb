"""Schema loading that fails with our 400 `validation_error` and per-field details."""
from marshmallow import ValidationError as SchemaError

from shared.errors import ValidationError


def load(schema, data):
    try:
        return schema.load(data if isinstance(data, dict) else {})
    except SchemaError as exc:
        raise ValidationError(details=exc.messages) from None


def check(schema, data):
    """`data` unchanged if `schema` accepts it (to pass on as JSON), else our 400."""
    errors = schema.validate(data if isinstance(data, dict) else {})
    if errors:
        raise ValidationError(details=errors)
    return data
