"""members' contract: the party member database's vocabulary, request bodies and events."""
from marshmallow import Schema, fields, validate

from shared.contracts.common import CITIZEN_ID, IN_PARTY, MEMBER_STATUSES, Event, Phone
from shared.validation import StoredInteger, Strict, no_control_characters

# the organisation tree, top down: each level's children are of the next level
LEVELS = ("central", "provincial", "grassroots", "branch", "party_group")
SECRETARY, DEPUTY_SECRETARY, COMMITTEE_MEMBER = "secretary", "deputy_secretary", "committee_member"
OFFICER_ROLES = (SECRETARY, DEPUTY_SECRETARY, COMMITTEE_MEMBER)   # act on their organisation's subtree
ADMIN_ROLE = "system_administrator"                               # acts on everything
ROLES = OFFICER_ROLES + (ADMIN_ROLE,)
ROLLOUT_STATES = ("disabled", "pilot", "live")
SIGN_IN_OPEN = ROLLOUT_STATES[1:]   # members under a committee in these states may activate and sign in
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
    reason = fields.String(required=True, validate=validate.Length(min=10, max=2000),
                           metadata={"example": "Đơn đề nghị xoá dữ liệu số 12/2026 / Erasure request no. 12/2026"})


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
    """Too many members changed to send one event each: re-read those updated since `updated_since`
    with members' bulk read (`member_snapshots`)."""
    job_id = fields.String(required=True)
    accepted = fields.Integer(required=True)
    updated_since = fields.DateTime(required=True)


EVENTS = {
    "members.member_created": Event(MemberSnapshot, "A member was added to the party member database."),
    "members.member_updated": Event(MemberSnapshot, "A member's record changed (the new state)."),
    "members.change_request_decided": Event(ChangeRequestDecided, "A secretary approved or rejected a member's "
                                                                  "change."),
    "members.transfer_issued": Event(TransferIssued, "A transfer was issued; the receiving organisation must "
                                                     "accept it."),
    "members.member_transferred": Event(MemberTransferred, "A member's transfer was accepted."),
    "members.position_changed": Event(PositionChanged, "A position was assigned or removed."),
    "members.org_rollout_changed": Event(OrgRolloutChanged, "A committee's rollout state changed."),
    "members.members_imported": Event(MembersImported, "An import changed many members; re-read them in bulk."),
    "members.member_erased": Event(MemberErased, "A member's personal data was erased; drop it from projections."),
}
