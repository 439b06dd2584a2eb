"""shared.db.DriverStatement: a statement on the driver's cursor reads and writes what SQLAlchemy's execution would."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError, NoResultFound, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session

from shared.db import DriverStatement, DriverTransaction, lost_connection, make_engine


class Base(DeclarativeBase):
    metadata = MetaData()


class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    code = Column(String(8), nullable=False, unique=True)
    at = Column(DateTime(timezone=True))
    detail = Column(JSON)


notes: Table = Note.__table__
WRITE = DriverStatement(insert(notes), keys=("code", "at", "detail"))
READ = DriverStatement(select(notes.c.code, notes.c.at, notes.c.detail).where(notes.c.code == bindparam("code")))
AT = datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'notes.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_rows_are_stored_and_read_as_sqlalchemy_stores_and_reads_them(engine):
    with Session(engine) as session:
        WRITE.run(session, {"code": "driver", "at": AT, "detail": {"a": [1, "ơ"]}})
        session.execute(insert(notes), {"code": "core", "at": AT, "detail": {"a": [1, "ơ"]}})
        session.commit()
        stored = session.connection().exec_driver_sql("SELECT code, at, detail FROM notes ORDER BY id").all()
        assert stored[0][1:] == stored[1][1:]  # the same text in the file: dates and JSON alike
        row = READ.one(session, {"code": "driver"})
        core = session.execute(READ.statement, {"code": "driver"}).one()
        assert tuple(row) == tuple(core) and row.at == AT.replace(tzinfo=None) and row.detail == {"a": [1, "ơ"]}
        with pytest.raises(NoResultFound):
            READ.one(session, {"code": "nobody"})
        assert READ.scalar(session, {"code": "nobody"}) is None
    assert READ.scalar_apart(engine, {"code": "driver"}) == "driver"
    assert engine.pool.checkedout() == 0  # given back at once


def test_pending_orm_changes_are_flushed_first_and_errors_are_sqlalchemys(engine):
    with Session(engine) as session:
        session.add(Note(code="orm"))
        with pytest.raises(IntegrityError) as raised:  # the ORM's row reached the database before this one
            WRITE.run(session, {"code": "orm", "at": AT, "detail": None})
        assert "orm" not in str(raised.value)  # parameters are personal data: hidden, as make_engine asks
        assert not lost_connection(raised.value)
    with pytest.raises(OperationalError) as raised:
        DriverStatement(select(notes.c.code).where(text("missing = :code"))).scalar_apart(engine, {"code": "x"})
    assert "no such column" in str(raised.value) and engine.pool.checkedout() == 0


def test_a_driver_transaction_commits_or_gives_everything_back(engine):
    transaction = DriverTransaction(engine)
    WRITE.run(transaction, {"code": "kept", "at": AT, "detail": None})
    transaction.commit()
    transaction.close()
    transaction = DriverTransaction(engine)
    WRITE.run(transaction, {"code": "dropped", "at": AT, "detail": None})
    transaction.close()  # not committed: rolled back as the connection goes back to the pool
    with pytest.raises(IntegrityError):
        transaction = DriverTransaction(engine)
        try:
            WRITE.run(transaction, {"code": "kept", "at": AT, "detail": None})
        finally:
            transaction.close()
    assert engine.pool.checkedout() == 0
    assert READ.scalar_apart(engine, {"code": "kept"}) == "kept"
    assert READ.scalar_apart(engine, {"code": "dropped"}) is None


def test_a_database_out_of_reach_is_seen_as_lost(tmp_path):
    # as a session's would be: the lost-connection retry (shared/entrypoints.py) answers 503, not 500
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'notes.db'}")
    with pytest.raises(OperationalError) as raised:
        READ.scalar_apart(engine, {"code": "x"})
    assert lost_connection(raised.value)
    engine.dispose()
