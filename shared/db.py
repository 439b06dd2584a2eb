"""Database access: one engine per service process, one session per worker.

`Database` is the nameko dependency. A worker uses it as

    with self.db.transaction() as session:
        ...                                 # domain code
        self.db.publish("members.member_created", payload)   # outbox row, same commit

The commit happens when the block exits (before nameko replies or acks), a
rollback when it raises: a failed operation leaves nothing half-written.
"""

import threading
import uuid
from collections import namedtuple
from contextlib import contextmanager
from datetime import UTC, datetime

from nameko.extensions import DependencyProvider
from sqlalchemy import Connection, create_engine, event, select, text
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared import config
from shared.context import CORRELATION_ID_KEY
from shared.events import validate_payload
from shared.messaging_tables import outbox_table, processed_event_table


def make_engine(url, **kwargs):
    # statement parameters are personal data: keep them out of error messages and logs
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # one connection per concurrent worker, kept: a connection opened and closed per request
        # (the pool's overflow) pays the PRAGMAs below every time
        kwargs.setdefault("pool_size", 40)
        kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # WAL lets readers work while one writer commits; NORMAL is durable at checkpoints.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # a PostgreSQL server admits so many clients (100 by default) shared by every process of every service:
    # a deployment sizes each service's pool to its replicas (DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW)
    kwargs.setdefault("pool_size", int(config.get("DATABASE_POOL_SIZE", 20)))
    kwargs.setdefault("max_overflow", int(config.get("DATABASE_MAX_OVERFLOW", 10)))
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    # psycopg pipelines a many-row INSERT and, waiting through eventlet's green select (shared/serve.py), pays a wait
    # or more per row: rows go in multi-row INSERTs instead (what SQLAlchemy does for psycopg2), one round trip a page
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def lost_connection(exc):
    """The database went away under the work (a backend terminated, the server restarting or
    unreachable): the work did not fail on its own merits."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def utcnow():
    return datetime.now(UTC)


def aware(value):
    """A stored time as UTC-aware (SQLite hands back naive UTC)."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def get_or_add(session, model, **key):
    """The row with this primary key, or a new one added to the session (for projections' upserts)."""
    row = session.get(model, key if len(key) > 1 else next(iter(key.values())))
    if row is None:
        row = model(**key)
        session.add(row)
    return row


def take_turns(session, key):
    """Replicas take turns on `key` until this transaction ends (check-then-write rules such as "one code a
    minute"): a PostgreSQL advisory lock. SQLite needs none: it has a single writer, and one process (replicas need
    PostgreSQL, shared/devrun.py)."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


class DriverStatement:
    """A Core statement compiled once per dialect and run on the driver's own cursor of the session's connection.

    For the few statements a hot path runs on every request (identity's sign-in): SQLAlchemy's execution of a
    statement (the session's, the connection's, an execution context and a result) took ~25 µs of CPU where SQLite
    itself took ~5. What SQLAlchemy does that matters is kept: parameters and columns go through the column types'
    processors (SQLite's dates as text, JSON), the session's pending ORM changes are flushed first (its autoflush),
    and a driver's error is raised as SQLAlchemy raises it (wrapped, parameters hidden, a lost connection
    invalidated: `lost_connection` sees it). Every bound value is given by the caller: no Python-side default runs
    (an INSERT names its columns, `keys`), and no expanding (IN) parameter is allowed."""

    def __init__(self, statement, keys=None):
        self.statement = statement
        self.keys = keys
        self._plans = {}

    def _plan(self, dialect):
        plan = self._plans.get(dialect)
        if plan is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
            if compiled.literal_execute_params or compiled.post_compile_params:
                raise ValueError("DriverStatement: no expanding or literal-execute parameters")
            names = compiled.positiontup if compiled.positional else list(compiled.bind_names.values())
            types = {name: bind.type for bind, name in compiled.bind_names.items()}
            binds = tuple((name, types[name].dialect_impl(dialect).bind_processor(dialect)) for name in names)
            columns = getattr(self.statement, "selected_columns", ())
            row = namedtuple("Row", [column.key for column in columns]) if columns else None
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
            plan = self._plans[dialect] = (compiled.string, compiled.positional, binds, row, results)
        return plan

    @staticmethod
    def _values(plan, params):
        _, positional, binds, _, _ = plan
        if positional:  # qmark (SQLite): in the statement's order, a name used twice given twice
            return [process(params[name]) if process else params[name] for name, process in binds]
        return {name: process(params[name]) if process else params[name] for name, process in binds}  # psycopg

    def _execute(self, target, params, write=False):
        if isinstance(target, DriverTransaction):
            return target.execute(self, params, write)
        session = target
        if session.autoflush and (session.new or session.dirty or session.deleted):
            session.flush()
        connection = session.connection()
        plan = self._plan(connection.dialect)
        sql, values = plan[0], self._values(plan, params)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, values)
        except connection.dialect.loaded_dbapi.Error as exc:
            connection._handle_dbapi_exception(exc, sql, values, cursor, None)  # raises it as SQLAlchemy would
        return cursor, plan[3], plan[4]

    def run(self, session, params):
        """Run it (an INSERT, UPDATE or DELETE) in the session's transaction (or a DriverTransaction)."""
        cursor, _, _ = self._execute(session, params, write=True)
        cursor.close()

    def one(self, session, params):
        """The one row a SELECT returns, as a named tuple (NoResultFound or MultipleResultsFound otherwise)."""
        cursor, row, results = self._execute(session, params)
        rows = cursor.fetchmany(2)
        cursor.close()
        if len(rows) != 1:
            raise NoResultFound() if not rows else MultipleResultsFound()
        return row._make(process(value) if process else value for process, value in zip(results, rows[0], strict=True))

    def scalar(self, session, params):
        """The first column of the first row of a SELECT, or None without a row."""
        cursor, _, results = self._execute(session, params)
        return self._first(cursor, results)

    def scalar_apart(self, engine, params):
        """`scalar` on a pooled connection of its own, given back at once (rolled back): a read that must hold no
        session or transaction afterwards, without the cost of opening and closing an ORM session for it."""
        transaction = DriverTransaction(engine)
        try:
            return self.scalar(transaction, params)
        finally:
            transaction.close()

    @staticmethod
    def _first(cursor, results):
        first = cursor.fetchone()
        cursor.close()
        if first is None:
            return None
        return results[0](first[0]) if results[0] else first[0]


class DriverTransaction:
    """A transaction on a pooled connection of its own, for DriverStatements alone (no ORM session: opening and
    committing one cost ~200 µs of CPU with the caches cold, more than the sign-in's statements). The driver begins
    it (SQLite's at the first write, psycopg's at the first statement); `commit`, or `close` rolls back what was not
    committed and gives the connection back.
    A driver's error is raised as SQLAlchemy raises it: wrapped, parameters hidden, a lost connection invalidated."""

    def __init__(self, engine):
        self._engine = engine
        try:
            self._connection = engine.raw_connection()
        except engine.dialect.loaded_dbapi.Error as exc:  # a database out of reach: wrapped as a session's would be
            Connection._handle_dbapi_exception_noconnection(exc, engine.dialect, engine)
        self.wrote = False  # a write was attempted: only then is there something to commit

    def execute(self, statement, params, write=False):
        self.wrote = self.wrote or write
        dialect = self._engine.dialect
        plan = statement._plan(dialect)
        sql, values = plan[0], statement._values(plan, params)
        driver = self._connection.dbapi_connection
        cursor = driver.cursor()
        try:
            cursor.execute(sql, values)
        except dialect.loaded_dbapi.Error as exc:
            self._raise(exc, driver, cursor, sql, values)
        return cursor, plan[3], plan[4]

    def commit(self):
        driver = self._connection.dbapi_connection
        try:
            driver.commit()
        except self._engine.dialect.loaded_dbapi.Error as exc:
            self._raise(exc, driver, None, "COMMIT", ())

    def _raise(self, exc, driver, cursor, sql, values):
        dialect = self._engine.dialect
        lost = dialect.is_disconnect(exc, driver, cursor)
        if lost:
            self._connection.invalidate(exc)
        raise DBAPIError.instance(
            sql,
            values,
            exc,
            dialect.loaded_dbapi.Error,
            self._engine.hide_parameters,
            dialect=dialect,
            connection_invalidated=lost,
        ) from exc

    def close(self):
        self._connection.close()  # the pool rolls back whatever was not committed


class UnitOfWork:
    """One worker's session plus the outbox and the processed-event record."""

    def __init__(self, database, handler_name, context_data):
        self._database = database
        self._handler_name = handler_name
        self._context_data = context_data
        self._session = None
        self.published = 0
        self.committed = False  # a commit was attempted: repeating the work might do it twice
        self._on_commit = []

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self._database.sessionmaker()
        return self._session

    @property
    def context(self):
        return self._context_data

    @property
    def provider(self):
        """The Database this unit belongs to (to open another unit, e.g. for background work)."""
        return self._database

    @contextmanager
    def transaction(self, commit_on=()):
        """Commit on success, roll back on error — except for `commit_on` errors,
        which are answers rather than failures (a refused sign-in is still audited)."""
        with self._database.writer():
            session = self.session
            try:
                yield session
                self.committed = True
                session.commit()
            except commit_on:
                self.committed = True
                session.commit()
                self._after_commit()
                raise
            except BaseException:
                session.rollback()
                self.published = 0
                self._on_commit.clear()
                raise
        self._after_commit()

    @contextmanager
    def driver_transaction(self):
        """A DriverTransaction taking its turn as writer like `transaction`: committed when the block ends, rolled
        back when it raises. For a hot path's DriverStatements alone: nothing is published, no ORM object written."""
        with self._database.writer():
            transaction = DriverTransaction(self._database.engine)
            try:
                yield transaction
                if transaction.wrote:  # a read alone is given back: nothing done, the work may still be repeated
                    self.committed = True  # a commit was attempted: the work must not be repeated
                    transaction.commit()
            finally:
                transaction.close()

    @contextmanager
    def reading(self):
        """A read-only transaction, rolled back at the end. It never waits for the writer lock: SQLite's
        WAL lets readers in beside the one writer (they see the last commit), so a long write such as an
        import's apply does not hold reads up. Anything written here is discarded."""
        session = self.session
        try:
            yield session
        finally:
            session.rollback()

    def _after_commit(self):
        if self.published:
            self.published = 0
            self._database.on_published()
        callbacks, self._on_commit = self._on_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback):
        """Call `callback()` once the transaction under way has committed (never if it rolls back): for what
        must not happen before the change is durable, such as handing a code to the channel."""
        self._on_commit.append(callback)

    def publish(self, event_type, payload, version=1):
        """Record an event in the outbox; it is relayed after the commit."""
        validate_payload(event_type, payload)
        self.session.execute(
            self._database.outbox_insert,
            {
                "id": str(uuid.uuid4()),
                "type": event_type,
                "version": version,
                "payload": payload,
                "occurred_at": utcnow(),
                "correlation_id": self._context_data.get(CORRELATION_ID_KEY),
                "state": "pending",
                "attempts": 0,
            },
        )
        self.published += 1

    def once(self, envelope, effect):
        """Apply `effect(session, envelope)` unless this handler already did, in one transaction
        with the record that it did: a redelivered event changes nothing."""
        with self.transaction() as session:
            if self.claim(envelope):
                effect(session, envelope)

    def once_each(self, envelopes, effect):
        """`once` for a batch (a batching subscriber's list): `effect(session, envelope)` for each of `envelopes`
        this handler has not applied yet, in order, in one transaction with the records that it did."""
        with self.transaction() as session:
            for envelope in self.claim_all(envelopes):
                effect(session, envelope)

    def processed(self, envelope):
        """Whether this handler already recorded `envelope` (for handlers that commit in steps)."""
        table = self._database.processed_events
        return (
            self.session.execute(
                select(table.c.event_id).where(
                    table.c.handler == self._handler_name, table.c.event_id == envelope["id"]
                )
            ).first()
            is not None
        )

    def claim(self, envelope):
        """Record that this handler processes `envelope`; False when it already did.

        Call inside `transaction()` so the record commits with the effect.
        """
        if self.processed(envelope):
            return False
        table = self._database.processed_events
        key = {"handler": self._handler_name, "event_id": envelope["id"]}
        # A concurrent duplicate fails the commit on the primary key; the
        # delivery is then retried and finds this record.
        self.session.execute(table.insert().values(processed_at=utcnow(), **key))
        return True

    def claim_all(self, envelopes):
        """`claim` for many at once (one read, one insert): the envelopes of `envelopes` this handler had not
        processed, each once, in order. Call inside `transaction()`."""
        table = self._database.processed_events
        ids = [envelope["id"] for envelope in envelopes]
        done = set(
            self.session.execute(
                select(table.c.event_id).where(table.c.handler == self._handler_name, table.c.event_id.in_(ids))
            ).scalars()
        )
        fresh = []
        for envelope in envelopes:
            if envelope["id"] not in done:
                done.add(envelope["id"])  # a repeat inside the batch too
                fresh.append(envelope)
        if fresh:
            at, handler = utcnow(), self._handler_name
            rows = [{"handler": handler, "event_id": envelope["id"], "processed_at": at} for envelope in fresh]
            self.session.execute(table.insert(), rows)
        return fresh

    def close(self):
        self.committed = False
        self._on_commit.clear()
        if self._session is not None:
            self._session.close()
            self._session = None


class Database(DependencyProvider):
    """Session-per-worker provider for the service's own database."""

    def __init__(self, metadata):
        self.metadata = metadata
        self.outbox = metadata.tables["outbox"]
        # one statement for every event written: built (and keyed for SQLAlchemy's cache) once, not per event
        self.outbox_insert = self.outbox.insert()
        self.processed_events = metadata.tables["processed_events"]
        self.engine = None
        self.sessionmaker = None
        self.relay = None
        self._write_lock = None
        self._units = {}

    def setup(self):
        from shared.outbox import Relay, RelayRunner

        service = self.container.service_name
        self.use_engine(make_engine(config.database_url(service)))
        self.relay = RelayRunner(
            Relay(self.engine, self.outbox, service, config.amqp_uri(), self.writer),
            interval=float(config.get("OUTBOX_POLL_INTERVAL", 1.0)),
        )

    def use_engine(self, engine):
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
        # SQLite has one writer at a time and waits for the lock inside C, which would stall
        # every green thread of the process: transactions take turns here instead, greenly.
        self._write_lock = threading.RLock() if engine.dialect.name == "sqlite" else None

    @contextmanager
    def writer(self):
        if self._write_lock is None:
            yield
            return
        with self._write_lock:
            yield

    def start(self):
        self.relay.start(self.container.spawn_managed_thread)

    def stop(self):
        self.relay.stop()
        if self.engine is not None:
            self.engine.dispose()

    def kill(self):
        self.relay.stop()

    def on_published(self):
        if self.relay is not None:
            self.relay.nudge()

    def unit_of_work(self, handler_name, context_data=None):
        return UnitOfWork(self, handler_name, dict(context_data or {}))

    def get_dependency(self, worker_ctx):
        handler = f"{self.container.service_name}.{worker_ctx.entrypoint.method_name}"
        unit = UnitOfWork(self, handler, worker_ctx.context_data)
        self._units[worker_ctx] = unit
        return unit

    def worker_teardown(self, worker_ctx):
        unit = self._units.pop(worker_ctx, None)
        if unit is not None:
            unit.close()


def standalone_unit(metadata, service, handler_name="script"):
    """A UnitOfWork outside nameko (seed scripts, CLIs)."""
    database = Database(metadata)
    database.use_engine(make_engine(config.database_url(service)))
    return UnitOfWork(database, handler_name, {}), database


__all__ = [
    "Database",
    "UnitOfWork",
    "make_engine",
    "outbox_table",
    "processed_event_table",
    "standalone_unit",
    "utcnow",
]
