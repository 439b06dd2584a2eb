"""Identity's rules that need its real database (SQLite through its migrations), no broker."""
from datetime import timedelta

import pytest

from shared import migrations
from shared.db import standalone_unit, utcnow
from shared.errors import CodeExpired, InvalidCode
from services.identity import activation, domain
from services.identity.models import Base, Challenge
from tests.support.audit import assert_audit_is_append_only


@pytest.fixture
def uow(settings):
    migrations.upgrade("identity")
    unit, database = standalone_unit(Base.metadata, "identity")
    with unit.transaction() as session:
        domain.project_member(session, {"member_id": 9, "citizen_id": "001000000009", "full_name": "Đỗ Văn Tuấn",
                                        "date_of_birth": "1970-02-03", "status": "official", "organization_id": 4,
                                        "organization_path": "/1/2/3/4/", "phone": "+84912000009"})
        domain.project_rollout(session, {"organization_id": 2, "organization_path": "/1/2/", "state": "pilot"})
    yield unit
    unit.close()
    database.engine.dispose()


def start(uow):
    with uow.transaction() as session:
        answer, sms = activation.request_code(session, activation.ACTIVATION, "001000000009")
    return answer, sms.text.split("là ")[1][:6]


def test_an_expired_code_is_refused(uow):
    answer, code = start(uow)
    with uow.transaction() as session:
        session.get(Challenge, answer["activation_id"]).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(CodeExpired):
        with uow.transaction() as session:
            activation.verify(session, answer["activation_id"], activation.ACTIVATION, code, "Một mật khẩu dài")


def test_a_newer_code_supersedes_the_older_one(uow):
    first, first_code = start(uow)
    with uow.transaction() as session:
        session.get(Challenge, first["activation_id"]).sent_at = utcnow() - timedelta(seconds=61)
    second, _ = start(uow)
    with pytest.raises(InvalidCode):
        with uow.transaction() as session:
            activation.verify(session, first["activation_id"], activation.ACTIVATION, first_code, "Một mật khẩu dài")
    assert second["activation_id"] != first["activation_id"]


def test_a_code_is_for_its_purpose_only(uow):
    answer, code = start(uow)
    with pytest.raises(InvalidCode):
        with uow.transaction() as session:
            activation.verify(session, answer["activation_id"], activation.PASSWORD_RESET, code, "Một mật khẩu dài")


def test_codes_are_stored_hashed(uow):
    answer, code = start(uow)
    stored = uow.session.get(Challenge, answer["activation_id"]).code_hash
    assert code not in stored and len(stored) == 64


def test_at_most_five_codes_an_hour_per_citizen(uow):
    for _ in range(5):
        answer, _ = start(uow)
        with uow.transaction() as session:   # move the last one out of the 60 s resend gap
            session.get(Challenge, answer["activation_id"]).sent_at = utcnow() - timedelta(seconds=61)
    with pytest.raises(Exception) as refused:
        start(uow)
    assert refused.value.code == "too_many_attempts"
    assert int(refused.value.headers["Retry-After"]) > 60


def test_the_audit_trail_cannot_be_changed_through_the_application(uow):
    assert_audit_is_append_only(uow)
