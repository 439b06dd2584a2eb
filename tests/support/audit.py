import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.identity.models import AuditEvent
from services.identity.trail import audit


def assert_audit_is_append_only(uow):
    """An entry written through the application cannot be changed or removed through it, except that an erasure
    clears its personal fields (citizen ID, client address, details) and nothing else."""
    with uow.transaction() as session:
        audit(
            session,
            "login",
            "success",
            citizen_id="001000000009",
            client={"address": "203.0.113.9"},
            detail={"family_id": "f-1"},
        )
    for statement in (
        "UPDATE audit_events SET outcome = 'forged'",
        "DELETE FROM audit_events",
        "UPDATE audit_events SET citizen_id = NULL, client_address = NULL, detail = NULL, action = 'forged'",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            with uow.transaction() as session:
                session.execute(text(statement))
    assert uow.session.scalars(select(AuditEvent.outcome)).all() == ["success"]
    with uow.transaction() as session:
        session.execute(text("UPDATE audit_events SET citizen_id = NULL, client_address = NULL, detail = NULL"))
    uow.session.expire_all()
    assert [(e.outcome, e.citizen_id, e.client_address, e.detail) for e in uow.session.scalars(select(AuditEvent))] == [
        ("success", None, None, None)
    ]
