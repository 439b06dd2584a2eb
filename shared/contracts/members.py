"""members' contract: the party member database's vocabulary, request bodies and events."""

from marshmallow import Schema, fields, validate

from shared.contracts.common import CITIZEN_ID, IN_PARTY, MEMBER_STATUSES, Event, JsonDate, JsonDateTime, Phone, page
from shared.validation import StoredInteger, Strict, no_control_characters

# the organisation tree, top down: each level's children are of the next level
LEVELS = ("central", "provincial", "grassroots", "branch", "party_group")
SECRETARY, DEPUTY_SECRETARY, COMMITTEE_MEMBER = "secretary", "deputy_secretary", "committee_member"
OFFICER_ROLES = (SECRETARY, DEPUTY_SECRETARY, COMMITTEE_MEMBER)  # act on their organisation's subtree
ADMIN_ROLE = "system_administrator"  # acts on everything
ROLES = OFFICER_ROLES + (ADMIN_ROLE,)
ROLLOUT_STATES = ("disabled", "pilot", "live")
SIGN_IN_OPEN = ROLLOUT_STATES[1:]  # members under a committee in these states may activate and sign in
GENDERS = ("male", "female")
TRANSFER_KINDS = ("official", "temporary")
RECORD_KINDS = ("work_history", "reward", "discipline")


class MemberCreate(Strict):
    citizen_id = fields.String(required=True, validate=CITIZEN_ID)
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    date_of_birth = fields.Date(allow_none=True, load_default=None)
    gender = fields.String(validate=validate.OneOf(GENDERS), allow_none=True, load_default=None)
    status = fields.String(required=True, validate=validate.OneOf(IN_PARTY))
    organization_id = StoredInteger(required=True)
    phone = Phone(allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None)
    party_card_number = fields.String(validate=validate.Length(max=32), allow_none=True, load_default=None)
    admission_date = fields.Date(allow_none=True, load_default=None)
    official_date = fields.Date(allow_none=True, load_default=None)


class MemberUpdate(Strict):
    """An officer's edit; the leaving states need their date and reason."""

    full_name = fields.String(validate=validate.Length(min=1, max=255))
    date_of_birth = fields.Date(allow_none=True)
    gender = fields.String(validate=validate.OneOf(GENDERS), allow_none=True)
    status = fields.String(validate=validate.OneOf(MEMBER_STATUSES))
    phone = Phone(allow_none=True)
    email = fields.Email(allow_none=True)
    party_card_number = fields.String(validate=validate.Length(max=32), allow_none=True)
    admission_date = fields.Date(allow_none=True)
    official_date = fields.Date(allow_none=True)
    left_on = fields.Date(allow_none=True)
    leaving_reason = fields.String(validate=validate.Length(max=2000), allow_none=True)


class MeUpdate(Strict):
    """A member's own change: contact data at once, core data by request."""

    phone = Phone(allow_none=True)
    email = fields.Email(allow_none=True)
    full_name = fields.String(validate=validate.Length(min=1, max=255))
    date_of_birth = fields.Date(allow_none=True)
    gender = fields.String(validate=validate.OneOf(GENDERS), allow_none=True)
    party_card_number = fields.String(validate=validate.Length(max=32), allow_none=True)


class OrganizationCreate(Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,32}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))


class OrganizationUpdate(Strict):
    name = fields.String(validate=validate.Length(min=1, max=255))
    parent_id = StoredInteger()


class TransferRequest(Strict):
    to_organization_id = StoredInteger(required=True)
    kind = fields.String(load_default="official", validate=validate.OneOf(TRANSFER_KINDS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class RecordCreate(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(RECORD_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    detail = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    start_date = fields.Date(load_default=None, allow_none=True)
    end_date = fields.Date(load_default=None, allow_none=True)


class MemberQuery(Strict):
    q = fields.String(load_default=None, validate=[validate.Length(max=100), no_control_characters])
    status = fields.String(load_default=None, validate=validate.OneOf(MEMBER_STATUSES))
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))
    limit = StoredInteger(load_default=50, validate=validate.Range(min=1, max=200))


class ErasureRequest(Strict):
    """Why a member's personal data is erased (their request under the personal data law, its reference): kept in
    every service's audit trail with who asked and when, so it must name no one's personal data."""

    reason = fields.String(
        required=True,
        validate=validate.Length(min=10, max=2000),
        metadata={"example": "Đơn đề nghị xoá dữ liệu số 12/2026 / Erasure request no. 12/2026"},
    )


class PositionChange(Strict):
    organization_id = StoredInteger(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MemberSnapshot(Schema):
    """What other services may project about a member (members.member_created/updated and the bulk
    re-read `member_snapshots`): identity signs members in with it (citizen ID, phone, status, the date
    of birth its password rule refuses), notify addresses them (name, phone, e-mail)."""

    member_id = fields.Integer(required=True)
    citizen_id = fields.String(required=True, validate=CITIZEN_ID)
    full_name = fields.String(required=True)
    date_of_birth = fields.Date(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(MEMBER_STATUSES))
    organization_id = fields.Integer(required=True)
    organization_path = fields.String(required=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True, load_default=None)
    # has signed in to Sổ tay, as of this event: identity.account_activated tells the activation itself
    activated = fields.Boolean(load_default=False)


class PositionChanged(Schema):
    member_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    organization_path = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    action = fields.String(required=True, validate=validate.OneOf(("assigned", "removed")))


class MemberTransferred(Schema):
    member_id = fields.Integer(required=True)
    from_organization_id = fields.Integer(required=True)
    to_organization_id = fields.Integer(required=True)
    kind = fields.String(load_default="official", validate=validate.OneOf(TRANSFER_KINDS))


class TransferIssued(MemberTransferred):
    transfer_id = fields.Integer(required=True)


class ChangeRequestDecided(Schema):
    request_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(("approved", "rejected")))
    reason = fields.String(allow_none=True)


class OrgRolloutChanged(Schema):
    organization_id = fields.Integer(required=True)
    organization_path = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(ROLLOUT_STATES))


class MemberErased(Schema):
    """A member's personal data was erased on request (members keeps a pseudonymous tombstone): every
    projection drops what it holds of them and takes no later snapshot of them."""

    member_id = fields.Integer(required=True)


class MembersImported(Schema):
    """Too many members changed to send one event each: re-read those updated from `updated_since` to
    `updated_until` (the import's start and end) with members' bulk read (`member_snapshots`)."""

    job_id = fields.String(required=True)
    accepted = fields.Integer(required=True)
    updated_since = fields.DateTime(required=True)
    # absent from events of earlier versions: re-read from `updated_since` on
    updated_until = fields.DateTime(load_default=None)


EVENTS = {
    "members.member_created": Event(MemberSnapshot, "A member was added to the party member database."),
    "members.member_updated": Event(MemberSnapshot, "A member's record changed (the new state)."),
    "members.change_request_decided": Event(
        ChangeRequestDecided, "A secretary approved or rejected a member's change."
    ),
    "members.transfer_issued": Event(
        TransferIssued, "A transfer was issued; the receiving organisation must accept it."
    ),
    "members.member_transferred": Event(MemberTransferred, "A member's transfer was accepted."),
    "members.position_changed": Event(PositionChanged, "A position was assigned or removed."),
    "members.org_rollout_changed": Event(OrgRolloutChanged, "A committee's rollout state changed."),
    "members.members_imported": Event(MembersImported, "An import changed many members; re-read them in bulk."),
    "members.member_erased": Event(MemberErased, "A member's personal data was erased; drop it from projections."),
}


# What the gateway answers (responses are dumped through these: the served document is what is sent)

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
    change_request = fields.Nested(
        ChangeRequest, required=True, allow_none=True, metadata={"description": "core data waits for the secretary"}
    )


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
    errors = fields.List(
        fields.Dict(), required=True, metadata={"description": "[{row, field, message}], the header is row 1"}
    )
    failure = fields.String(required=True, allow_none=True)


OrganizationPage = page(Organization, "OrganizationPage")


MemberPage = page(Member(partial=True), "MemberPage")  # officers get records, members get summaries


ChangeRequestPage = page(ChangeRequest, "ChangeRequestPage")


TransferPage = page(Transfer, "TransferPage")


RecordPage = page(Record, "RecordPage")


RegistrationPage = page(Registration, "RegistrationPage")


class Erasure(Schema):
    """What an erasure did: how many of what went in each service, never what they held."""

    member_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.Equal("erased"))
    erased_at = JsonDateTime(required=True)
    erased = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        required=True,
        metadata={"example": {"identity": {"accounts": 1}}},
    )
