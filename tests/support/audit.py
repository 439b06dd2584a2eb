import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.identity.models import AuditEvent
from services.identity.trail import audit


def assert_audit_is_append_only(uow):
    """An entry written through the application cannot be changed or removed through it."""
    with uow.transaction() as session:
        audit(session, "login", "success", citizen_id="001000000009")
    for statement in ("UPDATE audit_events SET outcome = 'forged'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with uow.transaction() as session:
                session.execute(text(statement))
    assert uow.session.scalars(select(AuditEvent.outcome)).all() == ["success"]
