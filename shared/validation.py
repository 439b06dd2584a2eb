"""Schema loading that fails with our 400 `validation_error` and per-field details."""
from marshmallow import ValidationError as SchemaError

from shared.errors import ValidationError


def load(schema, data):
    try:
        return schema.load(data if isinstance(data, dict) else {})
    except SchemaError as exc:
        raise ValidationError(details=exc.messages) from None
