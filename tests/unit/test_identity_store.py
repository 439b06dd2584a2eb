"""Identity's rules that need its real database (SQLite through its migrations), no broker."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from shared import migrations
from shared.contracts.identity import AccountFrozen, CodeExpired, InvalidCode, InvalidCredentials
from shared.db import standalone_unit, utcnow
from shared.errors import ServiceUnavailable, TooManyAttempts
from services.identity import activation, domain, passwords, phones
from services.identity.keys import KeyStore
from services.identity.models import Account, AuditEvent, Base, Challenge, LoginThrottle, RefreshToken, directory
from tests.support.audit import assert_audit_is_append_only


@pytest.fixture
def uow(database_settings):
    migrations.upgrade("identity")
    unit, database = standalone_unit(Base.metadata, "identity")
    with unit.transaction() as session:
        phones.project_member(session, snapshot(9))
        directory.rollout_changed(
            session, {"payload": {"organization_id": 2, "organization_path": "/1/2/", "state": "pilot"}}
        )
    yield unit
    unit.close()
    database.engine.dispose()


def snapshot(member_id, phone=None):
    return {
        "member_id": member_id,
        "citizen_id": f"001000000{member_id:03d}",
        "full_name": "Đỗ Văn Tuấn",
        "date_of_birth": "1970-02-03",
        "status": "official",
        "organization_id": 4,
        "organization_path": "/1/2/3/4/",
        "phone": phone or f"+84912000{member_id:03d}",
    }


def start(uow, citizen_id="001000000009", address=None):
    with uow.transaction() as session:
        answer, sms = activation.request_code(session, activation.ACTIVATION, citizen_id, client_address=address)
    return answer, sms.text.split("là ")[1][:6]


def out_of_the_resend_gap(uow, challenge_id):
    with uow.transaction() as session:
        session.get(Challenge, challenge_id).created_at = utcnow() - timedelta(seconds=61)


def test_an_expired_code_is_refused(uow):
    answer, code = start(uow)
    with uow.transaction() as session:
        session.get(Challenge, answer["activation_id"]).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(CodeExpired):
        with uow.transaction() as session:
            activation.verify(session, answer["activation_id"], activation.ACTIVATION, code, "Một mật khẩu dài")


def test_a_newer_code_supersedes_the_older_one(uow):
    first, first_code = start(uow)
    out_of_the_resend_gap(uow, first["activation_id"])
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
        out_of_the_resend_gap(uow, answer["activation_id"])
    with pytest.raises(Exception) as refused:
        start(uow)
    assert refused.value.code == "too_many_attempts"
    assert int(refused.value.headers["Retry-After"]) > 60


def test_the_audit_trail_cannot_be_changed_through_the_application(uow):
    assert_audit_is_append_only(uow)


def test_requests_from_one_client_address_are_limited(uow):
    with uow.transaction() as session:
        for member_id in range(100, 100 + activation.REQUESTS_PER_ADDRESS + 1):
            phones.project_member(session, snapshot(member_id))
    for member_id in range(100, 100 + activation.REQUESTS_PER_ADDRESS):
        start(uow, f"001000000{member_id:03d}", address="203.0.113.7")
    with pytest.raises(Exception) as refused:
        start(uow, f"001000000{100 + activation.REQUESTS_PER_ADDRESS:03d}", address="203.0.113.7")
    assert refused.value.code == "too_many_attempts" and int(refused.value.headers["Retry-After"]) > 3000
    start(uow, f"001000000{100 + activation.REQUESTS_PER_ADDRESS:03d}", address="198.51.100.1")  # another address


def test_only_an_import_makes_a_changed_phone_a_channel(uow):
    with uow.transaction() as session:
        told = phones.project_member(session, snapshot(9, phone="+84988000001"))  # an officer's edit
    assert told.phone == "+84912000009" and "not me" in told.text.lower()
    answer, _ = start(uow)
    assert answer["destination"] == activation.mask("+84912000009")
    with uow.transaction() as session:
        phones.project_member(session, snapshot(9, phone="+84988000002"), imported=True)  # an import's re-read
    out_of_the_resend_gap(uow, answer["activation_id"])
    answer, _ = start(uow)
    assert answer["destination"] == activation.mask("+84988000002")


def test_an_import_restating_an_edited_phone_makes_it_the_channel(uow):
    with uow.transaction() as session:
        phones.project_member(session, snapshot(9, phone="+84988000003"))  # an officer's edit…
        assert phones.project_member(session, snapshot(9, phone="+84988000003"), imported=True)  # …then imported
    answer, _ = start(uow)
    assert answer["destination"] == activation.mask("+84988000003")
    with uow.transaction() as session:  # the same import read again: nothing changes, nobody is told
        assert phones.project_member(session, snapshot(9, phone="+84988000003"), imported=True) is None


@pytest.fixture
def signing_in(uow, tmp_path, monkeypatch):
    """The member 9 with a password; the hashes run in the calling thread, each noting how many database
    connections were out of the pool meanwhile."""
    held = []

    def run(function, *args):
        held.append(uow.provider.engine.pool.checkedout())
        return function(*args)

    monkeypatch.setattr(passwords, "_run", run)
    with uow.transaction() as session:
        domain.set_password(session, "001000000009", "Một mật khẩu dài")
    held.clear()
    keys = KeyStore.open(tmp_path / "keys")
    client = {"address": "203.0.113.9", "user_agent": "test"}
    yield (
        lambda citizen_id="001000000009", password="Một mật khẩu dài": domain.login(
            uow, keys, citizen_id, password, client
        ),
        held,
    )


def outcomes(uow, citizen_id="001000000009"):
    with uow.reading() as session:
        return session.scalars(select(AuditEvent.outcome).where(AuditEvent.citizen_id == citizen_id)).all()


def test_a_sign_in_holds_no_database_connection_while_it_hashes(uow, signing_in):
    sign_in, held = signing_in
    tokens = sign_in()
    assert tokens["access_token"] and held == [0]
    with uow.reading() as session:
        token = session.scalars(select(RefreshToken)).one()
        assert token.client_address == "203.0.113.9" and token.user_agent == "test"
    assert outcomes(uow) == ["success"]


def test_refused_sign_ins_are_recorded_alike_whether_or_not_the_account_exists(uow, signing_in):
    sign_in, _ = signing_in
    for citizen_id in ("001000000009", "001000000555"):  # a member, and nobody
        with pytest.raises(InvalidCredentials):
            sign_in(citizen_id, "not the password")
        assert outcomes(uow, citizen_id) == ["invalid_credentials"]
        with uow.reading() as session:
            assert session.get(LoginThrottle, citizen_id).failures == 1


def test_a_right_password_clears_the_failures_and_a_lock_refuses_even_it(uow, signing_in):
    sign_in, _ = signing_in
    with pytest.raises(InvalidCredentials):
        sign_in(password="not the password")
    sign_in()
    with uow.reading() as session:
        assert session.get(LoginThrottle, "001000000009") is None
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            sign_in(password="not the password")
    with pytest.raises(TooManyAttempts):
        sign_in()
    assert outcomes(uow)[-1] == "locked"


def test_a_frozen_account_is_refused_and_the_attempt_recorded(uow, signing_in):
    sign_in, _ = signing_in
    with uow.transaction() as session:
        session.scalars(select(Account)).one().frozen_at = utcnow()
    with pytest.raises(AccountFrozen):
        sign_in()
    assert outcomes(uow) == ["frozen"]


def test_a_plain_success_is_recorded_without_an_orm_session(uow, signing_in):
    sign_in, _ = signing_in
    uow.close()  # as a worker starts: no session yet
    assert sign_in()["refresh_token"]
    assert uow._session is None  # the DriverTransaction's path: audit and refresh token, nothing else
    with uow.reading() as session:
        assert session.scalars(select(RefreshToken.account_id)).all() == [session.scalars(select(Account.id)).one()]
    assert outcomes(uow) == ["success"]


def test_a_right_password_of_a_leaver_or_an_unprojected_member_goes_the_whole_way(uow, signing_in):
    sign_in, _ = signing_in
    with uow.transaction() as session:
        phones.project_member(session, {**snapshot(9), "status": "resigned"})
        domain.set_password(session, "001000000777", "Một mật khẩu dài")  # an account members never told about
    uow.close()
    with pytest.raises(InvalidCredentials):
        sign_in()
    assert outcomes(uow) == ["left_party"]
    assert uow.committed  # the whole way's commit; the plain path, having written nothing, committed nothing
    uow.close()
    with uow.driver_transaction() as transaction:
        assert domain._plainly_signed_in(transaction, None, "001000000009", {}) is None
    assert not uow.committed  # a lost connection after it may still run the sign-in again (shared/entrypoints.py)
    with pytest.raises(ServiceUnavailable):
        sign_in("001000000777")
    assert outcomes(uow, "001000000777") == ["member_unknown"]
    with uow.reading() as session:
        assert session.get(LoginThrottle, "001000000009").failures == 1
        assert session.scalars(select(RefreshToken)).all() == []


def test_a_hash_of_older_parameters_is_replaced_at_sign_in(uow, signing_in):
    from argon2 import PasswordHasher, Type

    sign_in, _ = signing_in
    older = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash("Một mật khẩu dài")
    with uow.transaction() as session:
        session.scalars(select(Account)).one().password_hash = older
    assert sign_in()["access_token"]
    with uow.reading() as session:
        stored = session.scalars(select(Account.password_hash)).one()
    assert stored != older and not passwords.needs_rehash(stored) and outcomes(uow) == ["success"]
