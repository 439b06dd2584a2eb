"""Running totals on PostgreSQL (shared/tallies.py): a province's report is one indexed range scan of its children,
never a scan of the table, and fast; writers upsert the same rows at once without losing a count."""

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.tallies import Base, country, fill, plan, reads, timed
from tests.support.postgres import NoServer, scratch_database


@pytest.fixture
def engine():
    try:
        with scratch_database("sotay_test_tallies") as url:
            engine = create_engine(url)
            Base.metadata.create_all(engine)
            yield engine
            engine.dispose()
    except NoServer as exc:  # no server here: say so rather than pass silently
        pytest.skip(str(exc))


def test_a_provinces_report_is_one_indexed_range_scan_of_its_children(engine):
    provinces, branches = country(branches=20_000)
    with Session(engine) as session:
        fill(session, reads, branches, subjects=3)
        session.execute(text("ANALYZE"))
        session.commit()
        steps = "\n".join(plan(session, reads.children_query(2, provinces[5])))
        assert "ix_bench_document_totals_children" in steps and "Seq Scan" not in steps, steps
        children = reads.by_child(session, 2, provinces[5])
        assert len(children) == len(range(5, 10_000, 34)) and all(row["audience"] == 112 for row in children)
        assert reads.subtree(session, [1, 2, 3], provinces[5])["audience"] == 3 * 56 * 2 * len(children)
        p50, p95 = timed(lambda: reads.by_child(session, 2, provinces[5]), samples=50)
        assert p95 < 100, (p50, p95)


def test_writers_adding_to_the_same_committees_at_once_lose_nothing(engine):
    path = "/1/2/3/4/"

    def write():
        for _ in range(50):
            with Session(engine) as session:
                reads.add(session, 7, 4, path, read=1)
                session.commit()

    writers = [threading.Thread(target=write) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    with Session(engine) as session:
        assert reads.subtree(session, 7, "/1/") == {"audience": 0, "read": 200, "passed": 0}
        assert reads.by_child(session, 7, "/1/2/") == [
            {"organization_id": 3, "organization_path": "/1/2/3/", "audience": 0, "read": 200, "passed": 0}
        ]
