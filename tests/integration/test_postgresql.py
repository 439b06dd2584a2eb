"""The production datastore: migrations, the outbox relay and the audit trail on PostgreSQL."""

import os
import secrets

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from shared import migrations, registry
from shared.db import standalone_unit
from shared.outbox import Relay
from services.identity.models import Base as IdentityBase
from services.members import seed
from services.members.models import Base as MembersBase
from tests.support.audit import assert_audit_is_append_only
from tests.support.schema import differences

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def databases(settings, monkeypatch):
    """A fresh database per service, dropped afterwards."""
    try:
        admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except OperationalError as exc:  # no server here: say so rather than pass silently
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc}")
    names = {s.name: f"sotay_test_{s.name}_{secrets.token_hex(4)}" for s in registry.with_database()}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = SERVER.rsplit("/", 1)[0]
    for service, name in names.items():
        monkeypatch.setenv(registry.service(service).database_url_variable, f"{base}/{name}")
    yield names
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_seed_and_relay_run_on_postgresql(databases, settings):
    from shared import config

    migrations.upgrade("identity")
    migrations.upgrade("members")
    uow, database = standalone_unit(MembersBase.metadata, "members")
    with uow.transaction():
        assert seed.seed(uow)
    relay = Relay(database.engine, database.outbox, "members", config.amqp_uri())
    published = relay.relay_once()
    assert published > 15 and relay.pending_count() == 0
    uow.close()
    database.engine.dispose()


def test_the_audit_trail_refuses_updates_and_deletes_on_postgresql(databases):
    migrations.upgrade("identity")
    uow, database = standalone_unit(IdentityBase.metadata, "identity")
    assert_audit_is_append_only(uow)
    uow.close()
    database.engine.dispose()


def test_a_sign_in_is_decided_in_one_query_and_recorded_on_postgresql(databases, tmp_path, monkeypatch):
    # the sign-in's prebuilt statements (services/identity/domain.py) on the production datastore
    from shared.contracts.identity import InvalidCredentials
    from shared.errors import TooManyAttempts
    from services.identity import domain, passwords, phones
    from services.identity.keys import KeyStore
    from services.identity.models import AuditEvent, LoginThrottle, RefreshToken

    monkeypatch.setattr(passwords, "_run", lambda function, *args: function(*args))
    migrations.upgrade("identity")
    uow, database = standalone_unit(IdentityBase.metadata, "identity")
    member = {"member_id": 9, "citizen_id": "001000000009", "full_name": "Đỗ Văn Tuấn", "status": "official"}
    with uow.transaction() as session:
        phones.project_member(session, {**member, "organization_id": 4, "organization_path": "/1/2/3/4/"})
        domain.set_password(session, "001000000009", "Một mật khẩu dài")
    keys, client = KeyStore.open(tmp_path / "keys"), {"address": "203.0.113.9"}
    for citizen_id in ("001000000009", "001000000555"):  # a member, and nobody
        with pytest.raises(InvalidCredentials):
            domain.login(uow, keys, citizen_id, "not the password", client)
    assert domain.login(uow, keys, "001000000009", "Một mật khẩu dài", client)["access_token"]
    uow.close()
    # nothing left to clear: the plain success's DriverTransaction, no ORM session
    assert domain.login(uow, keys, "001000000009", "Một mật khẩu dài", client)["access_token"]
    assert uow._session is None
    with uow.reading() as session:
        assert session.get(LoginThrottle, "001000000009") is None  # the success cleared it
        assert session.get(LoginThrottle, "001000000555").failures == 1
        assert session.query(RefreshToken).count() == 2
        assert sorted(session.scalars(select(AuditEvent.outcome))) == ["invalid_credentials"] * 2 + ["success"] * 2
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            domain.login(uow, keys, "001000000009", "not the password", client)
    with pytest.raises(TooManyAttempts):
        domain.login(uow, keys, "001000000009", "Một mật khẩu dài", client)
    uow.close()
    database.engine.dispose()


def test_a_driver_statement_losing_its_connection_is_seen_as_lost_on_postgresql(databases):
    # shared.db.DriverStatement raises a driver's error as SQLAlchemy does: the lost-connection retry must see it
    from sqlalchemy.exc import DBAPIError

    from shared.db import DriverStatement, lost_connection

    migrations.upgrade("identity")
    uow, database = standalone_unit(IdentityBase.metadata, "identity")
    with uow.reading() as session:
        backend = session.scalar(text("SELECT pg_backend_pid()"))
        with database.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with pytest.raises(DBAPIError) as raised:
            DriverStatement(select(text("1"))).scalar(session, {})
    assert lost_connection(raised.value) and raised.value.connection_invalidated
    uow.close()
    database.engine.dispose()


GREEN_QUERY = """
import time
import shared.serve   # what every service process runs first: eventlet's patching and psycopg's wait
import eventlet
from sqlalchemy import create_engine, text

engine = create_engine({url!r})
with engine.connect() as conn:
    conn.execute(text("SELECT 1"))
ticks = []

def ticker():
    while True:
        ticks.append(time.monotonic())
        eventlet.sleep(0.01)

eventlet.spawn(ticker)
eventlet.sleep(0.05)
with engine.connect() as conn:
    before = len(ticks)
    conn.execute(text("SELECT pg_sleep(0.5)"))
print(len(ticks) - before)
"""


def test_a_query_does_not_stop_the_services_other_green_threads():
    """A service on PostgreSQL answers others while one of its queries runs: psycopg waits through
    eventlet's green select, not in C (which would stop the whole process for the query's length)."""
    import subprocess
    import sys

    try:
        create_engine(SERVER).connect().close()
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc}")
    done = subprocess.run(
        [sys.executable, "-c", GREEN_QUERY.format(url=SERVER)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "PSYCOPG_WAIT_FUNC"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) >= 20  # ~50 ticks of 10 ms in half a second; 0 when blocked


def test_every_service_database_at_the_latest_revision_is_what_its_models_say_on_postgresql(databases):
    from shared import config

    for service in databases:
        migrations.upgrade(service)
        assert differences(service, config.database_url(service)) == [], service


def test_relays_of_two_replicas_on_one_outbox_publish_each_row_once(databases, settings):
    from sqlalchemy import select

    from shared import config

    migrations.upgrade("members")
    uow, database = standalone_unit(MembersBase.metadata, "members")
    with uow.transaction():
        assert seed.seed(uow)
    outbox = database.outbox
    relay = Relay(database.engine, outbox, "members", config.amqp_uri())
    pending = relay.pending_count()
    with database.engine.connect() as other_replica:
        # the other replica's relay is in the middle of its batch: it holds the first rows
        claim = other_replica.begin()
        held = other_replica.execute(
            select(outbox.c.id)
            .where(outbox.c.state == "pending")
            .order_by(outbox.c.seq)
            .limit(5)
            .with_for_update(skip_locked=True)
        ).all()
        assert len(held) == 5
        assert relay.relay_once() == pending - 5  # this one publishes the rest, never the held rows
        claim.rollback()  # the other replica died before publishing: its rows are pending again
    assert relay.relay_once() == 5 and relay.pending_count() == 0
    uow.close()
    database.engine.dispose()


def test_two_notify_senders_never_claim_one_delivery(databases, settings):
    from sqlalchemy.orm import Session

    from services.notify import domain
    from services.notify.models import Base as NotifyBase, Delivery

    migrations.upgrade("notify")
    uow, database = standalone_unit(NotifyBase.metadata, "notify")
    with uow.transaction() as session:
        for n in range(10):
            session.add(
                Delivery(event_id=f"event-{n}", member_id=n, channel="sms", destination="+84970000001", text="…")
            )
    with Session(database.engine) as first, Session(database.engine) as second:
        taken = domain.due_deliveries(first, limit=6)  # not yet committed: the first sender still holds its rows
        others = domain.due_deliveries(second, limit=10)
        assert len(taken) == 6 and len(others) == 4
        assert not {row[0] for row in taken} & {row[0] for row in others}
        second.commit()
        first.rollback()  # the first sender died before its claim committed: its rows are due again
    with Session(database.engine) as third:
        assert len(domain.due_deliveries(third, limit=10)) == 6
    uow.close()
    database.engine.dispose()
