"""A PostgreSQL database of its own for a test or a benchmark, made on the server and dropped afterwards."""

import os
import secrets
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class NoServer(Exception):
    """No PostgreSQL answers at the server's URL."""


@contextmanager
def scratch_database(prefix, server=SERVER):
    """The URL of a new, empty database on `server`; dropped (connections closed) when the block ends."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except OperationalError as exc:
        admin.dispose()
        raise NoServer(f"no PostgreSQL at {server}: {exc}") from exc
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
