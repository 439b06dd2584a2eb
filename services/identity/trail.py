"""Identity's audit trail: every sign-in attempt, code, decision and erasure (append-only in the database)."""

from sqlalchemy import insert

from shared.context import CLIENT_ADDRESS_KEY, CORRELATION_ID_KEY, USER_AGENT_KEY
from shared.db import DriverStatement, utcnow
from services.identity.models import AuditEvent

# compiled once, run on the driver's cursor: every sign-in writes one (SQLAlchemy's execution cost more than SQLite)
_COLUMNS = ("at", "action", "outcome", "citizen_id", "member_id", "client_address", "correlation_id", "detail")
_RECORD = DriverStatement(insert(AuditEvent.__table__), keys=_COLUMNS)


def audit(session, action, outcome, *, citizen_id=None, member_id=None, client=None, detail=None):
    """Written at once, in the caller's transaction: it commits (or rolls back) with the change it records."""
    client = client or {}
    _RECORD.run(
        session,
        {
            "at": utcnow(),
            "action": action,
            "outcome": outcome,
            "citizen_id": citizen_id,
            "member_id": member_id,
            "client_address": client.get("address"),
            "correlation_id": client.get("correlation_id"),
            "detail": detail,
        },
    )


def client_of(unit):
    """Who is on the other end of this call, as the gateway saw them (for the trail and per-address limits)."""
    context = unit.context
    return {
        "address": context.get(CLIENT_ADDRESS_KEY),
        "correlation_id": context.get(CORRELATION_ID_KEY),
        "user_agent": context.get(USER_AGENT_KEY),
    }
