"""The request bodies of the public API that a service validates over RPC and the gateway
validates at the edge and documents in OpenAPI: one definition for both."""
import unicodedata

from marshmallow import RAISE, Schema, ValidationError as SchemaError, fields, validate

from shared.contracts.common import JsonBoolean
from shared.contracts.identity import TYPED_PHONE
from shared.events import CITIZEN_ID, MEMBER_STATUSES
from shared.validation import StoredInteger

PHONE = validate.Regexp(r"^\+84\d{9,10}$", error="phone must be E.164 (+84…)")


def no_control_characters(value):
    """A search term is text a person typed: a NUL or other control character is refused (PostgreSQL
    cannot even compare a NUL)."""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise SchemaError("Có ký tự điều khiển. / Contains a control character.")


class MemberCreate(Schema):
    class Meta:
        unknown = RAISE

    citizen_id = fields.String(required=True, validate=CITIZEN_ID)
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    date_of_birth = fields.Date(allow_none=True, load_default=None)
    gender = fields.String(validate=validate.OneOf(("male", "female")), allow_none=True, load_default=None)
    status = fields.String(required=True, validate=validate.OneOf(MEMBER_STATUSES[:2]))
    organization_id = StoredInteger(required=True)
    phone = fields.String(validate=PHONE, allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)
    party_card_number = fields.String(validate=validate.Length(max=32), allow_none=True, load_default=None)
    admission_date = fields.Date(allow_none=True, load_default=None)
    official_date = fields.Date(allow_none=True, load_default=None)


class MemberUpdate(Schema):
    """An officer's edit; the leaving states need their date and reason."""
    class Meta:
        unknown = RAISE

    full_name = fields.String(validate=validate.Length(min=1, max=255))
    date_of_birth = fields.Date(allow_none=True)
    gender = fields.String(validate=validate.OneOf(("male", "female")), allow_none=True)
    status = fields.String(validate=validate.OneOf(MEMBER_STATUSES))
    phone = fields.String(validate=PHONE, allow_none=True)
    email = fields.Email(allow_none=True)
    party_card_number = fields.String(validate=validate.Length(max=32), allow_none=True)
    admission_date = fields.Date(allow_none=True)
    official_date = fields.Date(allow_none=True)
    left_on = fields.Date(allow_none=True)
    leaving_reason = fields.String(validate=validate.Length(max=2000), allow_none=True)


class MeUpdate(Schema):
    """A member's own change: contact data at once, core data by request."""
    class Meta:
        unknown = RAISE

    phone = fields.String(validate=PHONE, allow_none=True)
    email = fields.Email(allow_none=True)
    full_name = fields.String(validate=validate.Length(min=1, max=255))
    date_of_birth = fields.Date(allow_none=True)
    gender = fields.String(validate=validate.OneOf(("male", "female")), allow_none=True)
    party_card_number = fields.String(validate=validate.Length(max=32), allow_none=True)


class OrganizationCreate(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,32}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))


class OrganizationUpdate(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=255))
    parent_id = StoredInteger()


class TransferRequest(Schema):
    class Meta:
        unknown = RAISE

    to_organization_id = StoredInteger(required=True)
    kind = fields.String(load_default="official", validate=validate.OneOf(("official", "temporary")))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class RecordCreate(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(("work_history", "reward", "discipline")))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    detail = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    start_date = fields.Date(load_default=None, allow_none=True)
    end_date = fields.Date(load_default=None, allow_none=True)


class MemberQuery(Schema):
    class Meta:
        unknown = RAISE

    q = fields.String(load_default=None, validate=[validate.Length(max=100), no_control_characters])
    status = fields.String(load_default=None, validate=validate.OneOf(MEMBER_STATUSES))
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))
    limit = StoredInteger(load_default=50, validate=validate.Range(min=1, max=200))


class PositionChange(Schema):
    class Meta:
        unknown = RAISE

    organization_id = StoredInteger(required=True)
    role = fields.String(required=True, validate=validate.OneOf(
        ("secretary", "deputy_secretary", "committee_member", "system_administrator")))


class PreferenceItem(Schema):
    class Meta:
        unknown = RAISE

    category = fields.String(required=True, validate=validate.OneOf(
        ("announcements", "records", "meetings", "study", "security")))
    channel = fields.String(required=True, validate=validate.OneOf(("sms", "email", "push")))
    enabled = JsonBoolean(required=True)


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


class FreezeRequest(Schema):
    """The "not me" code of a security notice (dashes, spaces and case ignored)."""
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=10, max=32), metadata={"example": "K7QXM-2HRTA"})


class PhoneVerificationRequest(Schema):
    """A phone to confirm in the member's own session; none: the phone now in their member record."""
    class Meta:
        unknown = RAISE

    phone = fields.String(load_default=None, allow_none=True, validate=TYPED_PHONE, metadata={"example": "0912345678"})


class PhoneVerificationConfirm(Schema):
    """The code sent to the phone and the current password (a stolen access token alone is not enough)."""
    class Meta:
        unknown = RAISE

    otp = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="6 chữ số. / 6 digits."))
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=4096))
