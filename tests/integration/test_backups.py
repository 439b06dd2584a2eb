"""A service's database backed up while it writes and restored with it stopped, on SQLite and on PostgreSQL: the
data and its outbox come back from one moment, and the events pending then go out again under their own ids."""

import os
import secrets
import subprocess
import sys

import pytest
from kombu import Connection, Queue
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import OperationalError

from shared import backups, config, migrations, registry
from shared.db import standalone_unit
from shared.outbox import Relay
from shared.topology import declare, events_exchange
from services.members import seed
from services.members.models import Base, Member

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, settings, monkeypatch):
    if request.param == "sqlite":
        yield "sqlite"
        return
    try:
        admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc}")
    name = f"sotay_test_backup_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    monkeypatch.setenv(registry.service("members").database_url_variable, f"{SERVER.rsplit('/', 1)[0]}/{name}")
    yield "postgresql"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def published_ids(amqp_uri):
    """A queue catching everything members publishes from now on, and a way to read what it caught."""
    connection = Connection(amqp_uri)
    queue = Queue(f"backup-test-{secrets.token_hex(4)}", events_exchange("members"), routing_key="#", exclusive=True)
    declare(connection, [events_exchange("members")])
    bound = queue(connection.default_channel)
    bound.declare()

    def read():
        ids = []
        while (message := bound.get(no_ack=True)) is not None:
            ids.append(message.properties.get("message_id") or message.payload["id"])
        return ids

    return read, connection


def test_a_restore_brings_back_the_data_and_its_pending_events_from_the_same_moment(backend, settings, tmp_path):
    migrations.upgrade("members")
    uow, database = standalone_unit(Base.metadata, "members")
    relay = Relay(database.engine, database.outbox, "members", config.amqp_uri())
    read, connection = published_ids(config.amqp_uri())
    try:
        with uow.transaction():
            assert seed.seed(uow)
        with database.engine.connect() as conn:
            members_then = conn.scalar(select(func.count()).select_from(Member))
            pending_then = conn.scalars(
                select(database.outbox.c.id).where(database.outbox.c.state == "pending").order_by(database.outbox.c.seq)
            ).all()
        assert members_then and pending_then

        saved = backups.backup("members", tmp_path / "members.backup")

        # after the backup: the events go out, a member goes, then the database is lost
        assert relay.relay_once() == len(pending_then)
        assert read() == pending_then
        with uow.transaction():
            uow.session.execute(update(Member).values(full_name="after the backup"))
        uow.close()
        database.engine.dispose()

        backups.restore("members", saved)

        uow, database = standalone_unit(Base.metadata, "members")
        relay = Relay(database.engine, database.outbox, "members", config.amqp_uri())
        with database.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(Member)) == members_then
            assert "after the backup" not in conn.scalars(select(Member.full_name)).all()
        # what was pending at the backup goes out again, the same ids: consumers' processed_events absorb it
        assert relay.relay_once() == len(pending_then)
        assert read() == pending_then
        assert relay.pending_count() == 0
    finally:
        uow.close()
        database.engine.dispose()
        connection.close()


def test_the_operator_commands_save_and_put_back_a_services_database(settings, tmp_path):
    migrations.upgrade("members")
    uow, database = standalone_unit(Base.metadata, "members")
    with uow.transaction():
        seed.seed(uow)
    with database.engine.connect() as conn:
        members_then = conn.scalar(select(func.count()).select_from(Member))
    env = {**os.environ, "DATA_DIR": settings["DATA_DIR"]}
    env.pop("MEMBERS_DATABASE_URL", None)
    file = tmp_path / "members.backup"

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "shared.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    saved = cli("backup", "members", str(file))
    assert saved.returncode == 0, saved.stderr
    with uow.transaction():
        uow.session.execute(update(Member).values(full_name="after the backup"))
    uow.close()
    database.engine.dispose()
    restored = cli("restore", "members", str(file))
    assert restored.returncode == 0, restored.stderr
    with database.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Member)) == members_then
        assert "after the backup" not in conn.scalars(select(Member.full_name)).all()
    database.engine.dispose()

    missing = cli("restore", "members", str(tmp_path / "nothing-here"))
    assert missing.returncode != 0 and "no backup at" in missing.stderr
    assert cli("backup", "gateway", str(file)).returncode != 0  # keeps no database
