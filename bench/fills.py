"""Filling a benchmark's database fast, and keeping the fill for the next run.

A national fill (5.6 M members, 10 M read receipts) takes many minutes on these 2 shared cores; the timed reads
take seconds and want a quiet machine. `BENCH_KEEP=DIR` keeps a bench's fill — a SQLite file in DIR, a PostgreSQL
database `sotay_bench_<name>_kept` on the server — and the next run with the same fill reuses it instead of refilling.
A fill is reused only when its fingerprint matches (the bench's fill version, its parameters and the tables' columns)
and it finished (the fingerprint is written last). Its indexes are brought to what the models say when reused, as a
migration would, so an index tried on a kept fill is measured without a refill.

How the fill goes fast without changing what is measured: the rows go in through the driver (executemany on SQLite
with its journal and syncs off for the fill's connection only; COPY on PostgreSQL) with the big tables' secondary
indexes dropped and rebuilt once after; the measuring connections are new ones with the defaults.
"""

import hashlib
import os
import time
from contextlib import contextmanager

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from bench.backends import PG_SERVER, scratch_engine

KEEP = os.environ.get("BENCH_KEEP")
PROGRESS_EVERY = 1_000_000
SQLITE_BATCH = 50_000


def fingerprint(metadata, version, **parameters):
    """What a kept fill must match to be reused: fill version, parameters, every table's columns."""
    parts = [f"v{version}", *(f"{key}={value}" for key, value in sorted(parameters.items()))]
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        parts += [f"{table.name}.{c.name}:{c.type!r}:{c.nullable}:{c.primary_key}" for c in table.columns]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _filled(engine, wanted):
    """The kept fill's (filled_at, seconds) when its fingerprint is `wanted`, else None."""
    if "bench_fill" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as connection:
        row = connection.execute(text("SELECT fingerprint, filled_at, seconds FROM bench_fill")).first()
    return (row[1], row[2]) if row is not None and row[0] == wanted else None


def mark_filled(session, wanted, seconds):
    """The fill is complete: written last, in the fill's own transaction, so a broken fill is never reused."""
    session.execute(text("CREATE TABLE bench_fill (fingerprint VARCHAR(32), filled_at VARCHAR(32), seconds FLOAT)"))
    session.execute(
        text("INSERT INTO bench_fill VALUES (:f, :at, :s)"),
        {"f": wanted, "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "s": seconds},
    )


@contextmanager
def kept_engine(backend, name, wanted):
    """(engine, kept) for a bench's fill: a kept one matching `wanted` (kept is its (filled_at, seconds)), or an
    empty database (kept None) — kept afterwards under BENCH_KEEP, thrown away otherwise."""
    if not KEEP:
        with scratch_engine(backend, name) as engine:
            yield engine, None
        return
    if backend == "sqlite":
        os.makedirs(KEEP, exist_ok=True)
        path = os.path.join(KEEP, f"{name}.db")
        engine = create_engine(f"sqlite:///{path}")
        kept = os.path.exists(path) and _filled(engine, wanted)
        if not kept:
            engine.dispose()
            for stale in (path, f"{path}-journal", f"{path}-wal", f"{path}-shm"):
                if os.path.exists(stale):
                    os.remove(stale)
            engine = create_engine(f"sqlite:///{path}")
    else:
        database = f"sotay_bench_{name}_kept"
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{database}"'))
        engine = create_engine(f"{PG_SERVER.rsplit('/', 1)[0]}/{database}")
        kept = exists and _filled(engine, wanted)
        if exists and not kept:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{database}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{database}"'))
            engine = create_engine(f"{PG_SERVER.rsplit('/', 1)[0]}/{database}")
        admin.dispose()
    try:
        yield engine, kept or None
    finally:
        engine.dispose()


@contextmanager
def loading(engine):
    """A Session on one connection for the fill; on SQLite with no rollback journal and no syncs (a crash mid-fill
    loses the fill, which is never reused unfinished). The engine's pool is emptied after, so the timed reads get
    connections with the defaults."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA journal_mode=OFF")
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
            connection.exec_driver_sql("PRAGMA cache_size=-1000000")  # 1 GB for the index builds
            connection.exec_driver_sql("PRAGMA temp_store=MEMORY")
        connection.commit()  # the session below begins (and commits) its own transaction
        with Session(bind=connection) as session:
            yield session
        connection.commit()
    engine.dispose()


@contextmanager
def indexes_after(session, *tables):
    """The tables' secondary indexes dropped for the bulk load and built once after it."""
    connection = session.connection()
    indexes = [index for table in tables for index in table.indexes]
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        started = time.perf_counter()
        index.create(connection)
        print(f"  index {index.name} built in {time.perf_counter() - started:.0f} s", flush=True)


def bulk(session, table, columns, rows, label=None):
    """Rows (tuples in `columns` order, values as the driver takes them: see `stamp`) into the table through the
    driver: COPY on PostgreSQL, executemany on SQLite; a progress line every PROGRESS_EVERY rows. The count."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    names = ", ".join(columns)
    label = label or table.name
    started = time.perf_counter()
    count = 0

    def progress(final=False):
        seconds = time.perf_counter() - started
        if final or count % PROGRESS_EVERY == 0:
            rate = count / seconds if seconds else 0
            end = " (done)" if final else ""
            print(f"  {label}: {count:,} rows in {seconds:.0f} s, {rate:,.0f}/s{end}", flush=True)

    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
                if count % PROGRESS_EVERY == 0:
                    progress()
    else:
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
        cursor = driver.cursor()
        batch = []
        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) == SQLITE_BATCH:
                cursor.executemany(statement, batch)
                batch = []
            if count % PROGRESS_EVERY == 0:
                progress()
        if batch:
            cursor.executemany(statement, batch)
        cursor.close()
    if count >= PROGRESS_EVERY:
        progress(final=True)
    return count


def stamp(session, column, value):
    """`value` as the driver stores it in `column` (SQLite keeps datetimes as SQLAlchemy's text)."""
    process = column.type.bind_processor(session.get_bind().dialect)
    return process(value) if process else value


def sync_indexes(engine, metadata):
    """A kept fill's indexes made what the models say: missing ones built, ones the models no longer have dropped
    (full-text ones, `fts_*`, belong to the revisions and stay)."""
    inspector = inspect(engine)
    with engine.begin() as connection:
        for table in metadata.tables.values():
            have = {
                found["name"]
                for found in inspector.get_indexes(table.name)
                if not found.get("duplicates_constraint") and not found["name"].startswith("fts_")
            }
            wanted = {index.name: index for index in table.indexes}
            for name in have - set(wanted):
                connection.exec_driver_sql(f'DROP INDEX "{name}"')
                print(f"  index {name} dropped (the models no longer have it)", flush=True)
            for name in set(wanted) - have:
                started = time.perf_counter()
                wanted[name].create(connection)
                print(f"  index {name} built in {time.perf_counter() - started:.0f} s", flush=True)


def vacuum(engine):
    """After a bulk load: statistics (ANALYZE) and, on PostgreSQL, the visibility map a long-running database has
    from autovacuum (index-only scans need it)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def disk_usage(engine):
    """The fill's size on disk, for the README."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return connection.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
    path = engine.url.database
    return f"{os.path.getsize(path) / 2**30:.1f} GB" if path and os.path.exists(path) else "?"


def load():
    """The machine's load averages (1, 5, 15 min), printed beside each figure: other engineers share the 2 cores."""
    return " ".join(f"{figure:.1f}" for figure in os.getloadavg())
