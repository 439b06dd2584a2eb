"""The event catalogue: every event type, its payload schema and the envelope.

This module is the contract other systems subscribe to; `python -m shared.cli
asyncapi` renders it as an AsyncAPI document.
"""
import uuid
from datetime import datetime, timezone

from marshmallow import Schema, fields, validate, ValidationError as SchemaError

from shared.errors import SotayError


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
ROLLOUT_STATES = ("disabled", "pilot", "live")
ORGANIZATION_LEVELS = ("central", "provincial", "grassroots", "branch", "party_group")   # by depth in the tree
OFFICER_ROLES = frozenset(("secretary", "deputy_secretary", "committee_member"))   # act on their subtree
ADMIN_ROLE = "system_administrator"
MEMBER_STATUSES = ("probationary", "official", "transferred_out", "removed", "expelled",
                   "resigned", "deceased")
IN_PARTY = MEMBER_STATUSES[:2]   # every other status means the member left the party: no sessions, no sign-in


def left_party(status):
    return status not in IN_PARTY


class Envelope(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True)
    version = fields.Integer(required=True)
    occurred_at = fields.DateTime(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(allow_none=True, load_default=None)
    payload = fields.Dict(required=True)


class MemberSnapshot(Schema):
    """What other services may project about a member (members.member_created/updated)."""
    member_id = fields.Integer(required=True)
    citizen_id = fields.String(required=True, validate=CITIZEN_ID)
    full_name = fields.String(required=True)
    date_of_birth = fields.Date(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(MEMBER_STATUSES))
    organization_id = fields.Integer(required=True)
    organization_path = fields.String(required=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True, load_default=None)
    activated = fields.Boolean(load_default=False)   # has signed in to Sổ tay (uptake, from identity's event)


class PositionChanged(Schema):
    member_id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    organization_path = fields.String(required=True)
    role = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(("assigned", "removed")))


class MemberTransferred(Schema):
    member_id = fields.Integer(required=True)
    from_organization_id = fields.Integer(required=True)
    to_organization_id = fields.Integer(required=True)
    kind = fields.String(load_default="official", validate=validate.OneOf(("official", "temporary")))


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


class AccountActivated(Schema):
    member_id = fields.Integer(required=True)
    citizen_id = fields.String(required=True, validate=CITIZEN_ID)
    method = fields.String(required=True)


class PasswordChanged(Schema):
    member_id = fields.Integer(required=True)


class SessionsEnded(Schema):
    """Sign-in sessions that ended (logout, revoked, refresh-token reuse, password change or reset, left the
    party): every service refuses access tokens carrying one of these `sid`s until `until`, when the last
    of them expires."""
    member_id = fields.Integer(allow_none=True, required=True)
    session_ids = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                              validate=validate.Length(min=1))
    until = fields.DateTime(required=True)


class LoginLocked(Schema):
    member_id = fields.Integer(allow_none=True)
    locked_until = fields.DateTime(required=True)


class DeliveryFailed(Schema):
    channel = fields.String(required=True)
    reason = fields.String(required=True)


CATALOGUE = {
    "members.member_created": (MemberSnapshot, "A member was added to the party member database."),
    "members.member_updated": (MemberSnapshot, "A member's record changed (the new state)."),
    "members.change_request_decided": (ChangeRequestDecided, "A secretary approved or rejected a member's change."),
    "members.transfer_issued": (TransferIssued, "A transfer was issued; the receiving organisation must accept it."),
    "members.member_transferred": (MemberTransferred, "A member's transfer was accepted."),
    "members.position_changed": (PositionChanged, "A position was assigned or removed."),
    "members.org_rollout_changed": (OrgRolloutChanged, "A committee's rollout state changed."),
    "members.members_imported": (MembersImported, "An import changed many members; re-read them in bulk."),
    "members.member_erased": (MemberErased, "A member's personal data was erased; drop it from projections."),
    "identity.account_activated": (AccountActivated, "A member activated their account."),
    "identity.password_changed": (PasswordChanged, "A member's password changed."),
    "identity.sessions_ended": (SessionsEnded, "Sign-in sessions ended: their access tokens are refused."),
    "identity.login_locked": (LoginLocked, "Sign-in to an account was locked after failures."),
    "notify.delivery_failed": (DeliveryFailed, "A message could not be delivered."),
}


class UnknownEventType(SotayError):
    code = "unknown_event_type"


def producer_of(event_type):
    return event_type.split(".", 1)[0]


def validate_payload(event_type, payload):
    """Raise when `payload` does not match the catalogue (a bug in the producer)."""
    if event_type not in CATALOGUE:
        raise UnknownEventType(details={"type": event_type})
    errors = CATALOGUE[event_type][0]().validate(payload)
    if errors:
        raise SchemaError(errors)


def envelope(event_type, payload, correlation_id=None, event_id=None, occurred_at=None, version=1):
    """A JSON-ready envelope (ids and times as strings)."""
    occurred_at = occurred_at or datetime.now(timezone.utc)
    if occurred_at.tzinfo is None:  # SQLite hands back naive UTC
        occurred_at = occurred_at.replace(tzinfo=timezone.utc)
    return {
        "id": str(event_id or uuid.uuid4()),
        "type": event_type,
        "version": version,
        "occurred_at": occurred_at.isoformat(),
        "producer": producer_of(event_type),
        "correlation_id": correlation_id,
        "payload": payload,
    }


def check_envelope(body):
    """Errors of a received envelope ({} when it is well-formed)."""
    if not isinstance(body, dict):
        return {"_schema": ["not an object"]}
    return Envelope().validate(body)
