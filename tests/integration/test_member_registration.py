"""POST /members outside the officer's subtree: reviews are stored, audited and limited per Vietnamese day."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from services.members import domain, registration
from services.members.models import AuditEntry, Member, Organization, Registration
from shared.errors import TooManyAttempts


@pytest.fixture
def uow(members_uow):
    return members_uow


def secretary(session):
    return domain.load_actor(session, session.scalar(select(Member.id).where(Member.citizen_id == "001000000001")))


def register(uow, citizen_id, at, monkeypatch):
    monkeypatch.setattr(registration, "utcnow", lambda: at)
    session = uow.session
    branch = session.scalar(select(Organization.id).where(Organization.code == "G001-B1"))
    with uow.transaction():
        return registration.register(uow, secretary(session), {
            "citizen_id": citizen_id, "full_name": "Mạc Văn Thử", "status": "probationary", "organization_id": branch,
            "admission_date": date(2025, 1, 1)})


def test_the_daily_limit_counts_the_vietnamese_day(uow, monkeypatch):
    outside = "079000000005"                                              # a member in Hà Nội
    late_yesterday = datetime(2026, 11, 24, 16, 30, tzinfo=timezone.utc)  # 23:30 in Vietnam
    early_today = datetime(2026, 11, 24, 17, 30, tzinfo=timezone.utc)     # 00:30 in Vietnam, the 25th
    now = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)               # 08:00 in Vietnam
    for at in (late_yesterday, early_today, early_today, now):
        assert register(uow, outside, at, monkeypatch)["status"] == "pending_review"
    with pytest.raises(TooManyAttempts) as limited:
        register(uow, "001070000999", now, monkeypatch)                   # even a new citizen ID
    assert int(limited.value.headers["Retry-After"]) == 16 * 3600 + 1
    assert uow.session.scalar(select(Member).where(Member.citizen_id == "001070000999")) is None
    stored = uow.session.scalars(select(Registration)).all()
    assert len(stored) == 4 and {r.member_id for r in stored} == {
        uow.session.scalar(select(Member.id).where(Member.citizen_id == outside))}
    audited = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "member.registration_review")).all()
    assert sorted(a.subject_id for a in audited) == sorted(r.id for r in stored)
