"""Running totals per (subject, organisation) (shared/tallies.py), as a content-like service keeps them: members read
documents and pass their quizzes, move branch, organisations move, members are erased; the totals stay what
counting every member's contributions where the directory has them now gives."""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import Column, Integer, MetaData, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Session

from shared.directory import Directory
from shared.tallies import Tally, chain
from shared.tree import ancestor_ids
from tests.unit.test_directory_totals import BRANCHES, GRASSROOTS, Members


class Base(DeclarativeBase):
    metadata = MetaData()


directory = Directory(Base)
reads = directory.tally("document_totals", subject=Column(Integer), counts=("read", "passed"))
months = Tally(Base, "month_totals", subject=Column(String(7)), counts=("meetings", "attended"))


@pytest.fixture
def session():
    with Session(create_engine("sqlite://")) as session:
        Base.metadata.create_all(session.get_bind())
        yield session


class ContentLike:
    """What the owning service keeps: who read and passed what; the tally follows."""

    def __init__(self, session):
        self.session = session
        self.done = {}  # member → {document: {"read": 1, "passed": 0|1}}

    def snapshot(self, snapshot):
        change = directory.project_member(self.session, snapshot)
        if change is None or change.before is None:
            return
        row, before = change.row, change.before
        if before["organization_id"] != row.organization_id and self.done.get(row.member_id):
            reads.move(
                self.session,
                self.done[row.member_id],
                (before["organization_id"], before["organization_path"]),
                (row.organization_id, row.organization_path),
            )

    def read(self, member_id, document_id, passed):
        row = self.session.get(directory.Membership, member_id)
        mine = self.done.setdefault(member_id, {})
        if row is None:
            return
        if document_id not in mine:
            mine[document_id] = {"read": 1, "passed": 0}
            reads.add(self.session, document_id, row.organization_id, row.organization_path, read=1)
        if passed and not mine[document_id]["passed"]:
            mine[document_id]["passed"] = 1
            reads.add(self.session, document_id, row.organization_id, row.organization_path, passed=1)

    def erase(self, member_id):
        row = self.session.get(directory.Membership, member_id)
        if row is not None:
            reads.apply(
                self.session,
                [(document, row.organization_path, n, -1) for document, n in self.done.pop(member_id, {}).items()],
            )
        directory.erase(self.session, member_id)


steps = st.lists(
    st.one_of(
        st.tuples(st.just("change"), st.integers(1, 6), st.sampled_from(BRANCHES + GRASSROOTS)),
        st.tuples(st.just("read"), st.integers(1, 6), st.integers(1, 3), st.booleans()),
        st.tuples(st.just("move"), st.sampled_from(BRANCHES + GRASSROOTS), st.integers(0, 2)),
        st.tuples(st.just("erase"), st.integers(1, 6)),
    ),
    max_size=40,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(steps)
def test_the_totals_follow_members_and_organisations_wherever_they_go(session, steps):
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    members, service = Members(), ContentLike(session)
    for step in steps:
        if step[0] == "change" and step[1] not in members.erased:
            members.records[step[1]] = (step[2], "official")
            service.snapshot(members.snapshot(step[1]))
        elif step[0] == "read":
            service.read(*step[1:])
        elif step[0] == "move":
            level = (2, 3) if step[1] in GRASSROOTS else GRASSROOTS
            members.parents[step[1]] = level[step[2] % len(level)]
            for member_id in sorted(set(members.records) - members.erased):
                service.snapshot(members.snapshot(member_id))
        elif step[0] == "erase":
            members.erased.add(step[1])
            service.erase(step[1])
    expected = Counter()
    for row in session.scalars(select(directory.Membership)):
        for document, counted in service.done.get(row.member_id, {}).items():
            for organization_id, path in chain(row.organization_path):
                for count, n in counted.items():
                    expected[(document, organization_id, path, count)] += n
    kept = Counter()
    for row in session.scalars(select(reads.Row)):
        for count in ("read", "passed"):
            kept[(row.subject, row.organization_id, row.organization_path, count)] += getattr(row, count)
    assert +kept == +expected
    for document in (1, 2, 3):
        for organization_id in (1, 2, 3, 4, 6):
            path = members.path(organization_id)
            assert reads.subtree(session, document, path) == {
                count: sum(
                    n for key, n in expected.items() if key[:2] == (document, organization_id) and key[3] == count
                )
                for count in ("read", "passed")
            }


def test_a_report_reads_a_committee_and_its_children_summed_over_subjects(session):
    for month, path, meetings, attended in (
        ("2026-10", "/1/2/4/7/", 1, 8),
        ("2026-11", "/1/2/4/7/", 1, 9),
        ("2026-11", "/1/2/4/8/", 2, 10),
        ("2026-11", "/1/2/5/9/", 1, 3),
        ("2026-11", "/1/3/6/10/", 1, 4),
    ):
        months.add(session, month, ancestor_ids(path)[-1], path, meetings=meetings, attended=attended)
    assert months.subtree(session, "2026-11", "/1/") == {"meetings": 5, "attended": 26}
    assert months.subtree(session, ["2026-10", "2026-11"], "/1/2/4/") == {"meetings": 4, "attended": 27}
    assert months.subtree(session, "2026-09", "/1/2/") == {"meetings": 0, "attended": 0}
    assert months.by_child(session, "2026-11", "/1/2/") == [
        {"organization_id": 4, "organization_path": "/1/2/4/", "meetings": 3, "attended": 19},
        {"organization_id": 5, "organization_path": "/1/2/5/", "meetings": 1, "attended": 3},
    ]
    assert months.by_child(session, ("2026-10", "2026-11"), "/1/") == [
        {"organization_id": 2, "organization_path": "/1/2/", "meetings": 5, "attended": 30},
        {"organization_id": 3, "organization_path": "/1/3/", "meetings": 1, "attended": 4},
    ]


def test_a_tally_refuses_what_it_does_not_count(session):
    with pytest.raises(ValueError, match="counts no"):
        months.add(session, "2026-11", 7, "/1/2/4/7/", absent=1)
    with pytest.raises(ValueError, match="is not the path"):
        months.add(session, "2026-11", 8, "/1/2/4/7/", meetings=1)


def test_a_report_answer_adds_columns_from_elsewhere_for_every_child_that_has_any(session):
    reads.add(session, 12, 7, "/1/2/4/7/", read=3, passed=1)
    audience = (40, {4: 25, 5: 15})  # directory.audience: commune 5 has members and no reads yet
    assert reads.report(session, 12, "/1/2/", audience=audience) == {
        "organization_id": 2,
        "read": 3,
        "passed": 1,
        "audience": 40,
        "children": [
            {"organization_id": 4, "read": 3, "passed": 1, "audience": 25},
            {"organization_id": 5, "read": 0, "passed": 0, "audience": 15},
        ],
    }
