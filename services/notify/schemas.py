from marshmallow import RAISE, Schema, fields, validate


class SmsRequest(Schema):
    class Meta:
        unknown = RAISE

    to = fields.String(required=True, validate=validate.Regexp(r"^\+84\d{9,10}$"))
    text = fields.String(required=True, validate=validate.Length(min=1, max=640))
