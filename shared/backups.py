"""A service's own database saved while it runs, and put back with it stopped.

    python -m shared.cli backup <service> <file>     # a consistent snapshot, the service serving meanwhile
    python -m shared.cli restore <service> <file>    # every replica of the service stopped first

SQLite (the embedded default): sqlite3's online backup API copies the database page by page under a read
transaction, so the copy is one committed state even while the service writes (WAL); a restore copies it back the
same way, into the service's file. PostgreSQL: `pg_dump --format=custom` (one snapshot transaction) and
`pg_restore --clean --if-exists --no-owner --single-transaction` (all or nothing).

The outbox stays consistent because it is in the same snapshot as the data its rows describe: an event is there
exactly when the change it announces is. After a restore the relay publishes the rows that were pending in the
backup — some may have gone out before the loss, and their consumers' processed_events absorb the repeat (the same
event id). What the service did after the backup is gone with its events; what it consumed after the backup is
gone too (its projections are as old as the backup): see deploy/README.md, "Backups", for what to run next.
"""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from shared import config


class BackupError(RuntimeError):
    pass


def _sqlite_path(url):
    database = url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _libpq_url(url):
    """The URL for pg_dump/pg_restore: libpq's own scheme, password included (never printed)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _copy(source, target):
    """SQLite's online backup from one file to another (the target replaced as a whole)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _run(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def backup(service, target):
    url = make_url(config.database_url(service))
    target = Path(target)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"{service} has no database at {source}")
        partial = target.with_name(target.name + ".partial")
        _copy(source, partial)
        partial.replace(target)  # a backup file is whole or absent
    elif url.get_backend_name() == "postgresql":
        if not shutil.which("pg_dump"):
            raise BackupError("pg_dump is not installed (Debian: postgresql-client)")
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)])
    else:
        raise BackupError(f"no backup for {url.get_backend_name()} databases")
    return target


def restore(service, source):
    url = make_url(config.database_url(service))
    source = Path(source)
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(source, target)
    elif url.get_backend_name() == "postgresql":
        if not shutil.which("pg_restore"):
            raise BackupError("pg_restore is not installed (Debian: postgresql-client)")
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(url)}",
                str(source),
            ]
        )
    else:
        raise BackupError(f"no restore for {url.get_backend_name()} databases")
