"""members' public contract: the party member database's vocabulary, the bodies the gateway checks and the
answers it sends on."""
from marshmallow import Schema, fields, validate

from shared.contracts.common import JsonDate, JsonDateTime, page
from shared.events import MEMBER_STATUSES, ROLLOUT_STATES
from shared.validation import StoredInteger

LEVELS = ("central", "provincial", "grassroots", "branch", "party_group")
ROLES = ("secretary", "deputy_secretary", "committee_member", "system_administrator")
GENDERS = ("male", "female")
IMPORT_STATUSES = ("running", "applying", "completed", "failed")


class RolloutChange(Schema):
    state = fields.String(required=True, validate=validate.OneOf(ROLLOUT_STATES))


class MergeRequest(Schema):
    into = StoredInteger(required=True, metadata={"description": "the organisation that takes everything over"})


class Decision(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ImportOptions(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "validate only"})


class Position(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    organization_id = fields.Integer(required=True)


class MemberSummary(Schema):
    """What a member sees of their own branch's members."""
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    positions = fields.List(fields.Nested(Position), required=True)


class Member(MemberSummary):
    """A member's record: their own, or one of an officer's subtree."""
    citizen_id = fields.String(required=True)
    date_of_birth = JsonDate(required=True, allow_none=True)
    gender = fields.String(required=True, allow_none=True, validate=validate.OneOf(GENDERS))
    status = fields.String(required=True, validate=validate.OneOf(MEMBER_STATUSES))
    organization_id = fields.Integer(required=True)
    phone = fields.String(required=True, allow_none=True)
    party_card_number = fields.String(required=True, allow_none=True)
    admission_date = JsonDate(required=True, allow_none=True)
    official_date = JsonDate(required=True, allow_none=True)


class Organization(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent_id = fields.Integer(required=True, allow_none=True)
    rollout = fields.String(required=True, validate=validate.OneOf(ROLLOUT_STATES))


class Uptake(Schema):
    activated = fields.Integer(required=True)
    not_activated = fields.Integer(required=True)
    rate = fields.Float(required=True, metadata={"description": "0 to 1"})


class Stats(Schema):
    organization_id = fields.Integer(required=True)
    total = fields.Integer(required=True)
    in_party = fields.Integer(required=True, metadata={"description": "probationary + official"})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_gender = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_age_band = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    uptake = fields.Nested(Uptake, required=True)


class ChangeRequest(Schema):
    id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    changes = fields.Dict(required=True, metadata={"description": "the core data asked for"})
    status = fields.String(required=True, validate=validate.OneOf(("pending", "approved", "rejected")))
    reason = fields.String(required=True, allow_none=True)
    requested_at = JsonDateTime(required=True)


class MeUpdated(Schema):
    member = fields.Nested(Member, required=True)
    change_request = fields.Nested(ChangeRequest, required=True, allow_none=True,
                                   metadata={"description": "core data waits for the secretary"})


class Transfer(Schema):
    id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("official", "temporary")))
    status = fields.String(required=True, validate=validate.OneOf(("issued", "accepted")))
    from_organization_id = fields.Integer(required=True)
    to_organization_id = fields.Integer(required=True)
    note = fields.String(required=True, allow_none=True)


class Record(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("work_history", "reward", "discipline")))
    title = fields.String(required=True)
    detail = fields.String(required=True, allow_none=True)
    start_date = JsonDate(required=True, allow_none=True)
    end_date = JsonDate(required=True, allow_none=True)


class HeldBy(Schema):
    """The member a registration clashes with, where they are now."""
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(MEMBER_STATUSES))
    organization_id = fields.Integer(required=True)


class Registration(Schema):
    id = fields.Integer(required=True)
    citizen_id = fields.String(required=True)
    full_name = fields.String(required=True, allow_none=True)
    organization_id = fields.Integer(required=True)
    field = fields.String(required=True, validate=validate.OneOf(("citizen_id", "party_card_number")))
    status = fields.String(required=True, validate=validate.OneOf(("pending_review", "closed")))
    requested_by = fields.Integer(required=True)
    requested_at = JsonDateTime(required=True)
    member = fields.Nested(HeldBy, required=True)


class RegistrationPending(Schema):
    status = fields.String(required=True, validate=validate.Equal("pending_review"))
    registration_id = fields.Integer(required=True)
    message = fields.String(required=True)


class RegistrationClosed(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.Equal("closed"))
    reason = fields.String(required=True, allow_none=True)


class ImportStarted(Schema):
    id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(IMPORT_STATUSES))


class ImportJob(ImportStarted):
    dry_run = fields.Boolean(required=True)
    progress = fields.Float(required=True, metadata={"description": "0 to 1"})
    processed_rows = fields.Integer(required=True)
    total_rows = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    warnings = fields.List(fields.Dict(), required=True)
    errors = fields.List(fields.Dict(), required=True,
                         metadata={"description": "[{row, field, message}], the header is row 1"})
    failure = fields.String(required=True, allow_none=True)


OrganizationPage = page(Organization, "OrganizationPage")
MemberPage = page(Member(partial=True), "MemberPage")   # officers get records, members get summaries
ChangeRequestPage = page(ChangeRequest, "ChangeRequestPage")
TransferPage = page(Transfer, "TransferPage")
RecordPage = page(Record, "RecordPage")
RegistrationPage = page(Registration, "RegistrationPage")
