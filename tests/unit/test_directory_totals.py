"""The directory's member totals (Directory(…, totals=True)): after any sequence of members' events — joins, status
changes, leaving, transfers, erasures, organisations moved, events late, out of order or delivered twice, bulk
re-reads retried — the totals are what counting the directory's own rows gives."""

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import StaticPool

from shared.db import Database, UnitOfWork
from shared.directory import Directory
from shared.messaging_tables import outbox_table, processed_event_table
from shared.tallies import chain
from shared.tree import ancestor_ids


class Base(DeclarativeBase):
    metadata = MetaData()


outbox_table(Base.metadata)
processed_event_table(Base.metadata)
directory = Directory(Base, keep=("full_name",), totals=True)

# centre 1; provinces 2, 3; grassroots 4, 5 (in 2) and 6 (in 3); branches 7, 8 (in 4), 9 (in 5), 10 (in 6)
PARENTS = {2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 4, 8: 4, 9: 5, 10: 6}
GRASSROOTS, BRANCHES = (4, 5, 6), (7, 8, 9, 10)
STATUSES = ("probationary", "official", "expelled", "transferred_out")


def new_unit():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    database = Database(Base.metadata)
    database.use_engine(engine)
    return UnitOfWork(database, "test", {})


class Members:
    """members as the directory hears of it: the true tree, the members' records, the events on their way."""

    def __init__(self):
        self.parents = dict(PARENTS)
        self.records = {}
        self.erased = set()
        self.ids = itertools.count(1)
        self.sent = []

    def path(self, organization_id):
        above = [organization_id]
        while above[0] in self.parents:
            above.insert(0, self.parents[above[0]])
        return "/" + "/".join(map(str, above)) + "/"

    def snapshot(self, member_id):
        organization_id, status = self.records[member_id]
        return {
            "member_id": member_id,
            "full_name": f"Đảng viên {member_id}",
            "status": status,
            "organization_id": organization_id,
            "organization_path": self.path(organization_id),
        }

    def publish(self, member_id):
        envelope = {"id": f"e-{next(self.ids)}", "type": "members.member_updated", "payload": self.snapshot(member_id)}
        self.sent.append(envelope)
        return envelope


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("change"), st.integers(1, 8), st.sampled_from(BRANCHES + GRASSROOTS), st.sampled_from(STATUSES)
        ),
        st.tuples(st.just("move"), st.sampled_from(BRANCHES + GRASSROOTS), st.integers(0, 2)),
        st.tuples(st.just("erase"), st.integers(1, 8)),
        st.tuples(st.just("late"), st.integers(0, 50)),  # an event sent before, delivered again or for the first time
        st.tuples(st.just("reread"), st.lists(st.integers(1, 8), max_size=4)),
    ),
    max_size=40,
)


def deliver(unit, envelope):
    unit.once(envelope, directory.member_changed)


def play(unit, steps):
    members = Members()
    for step in steps:
        if step[0] == "change":
            _, member_id, organization_id, status = step
            if member_id in members.erased:
                continue
            members.records[member_id] = (organization_id, status)
            deliver(unit, members.publish(member_id))
        elif step[0] == "move":
            _, organization_id, choice = step
            level = (2, 3) if organization_id in GRASSROOTS else GRASSROOTS
            members.parents[organization_id] = level[choice % len(level)]
            for member_id in sorted(members.records):  # members republishes everyone below the move
                if member_id not in members.erased:
                    deliver(unit, members.publish(member_id))
        elif step[0] == "erase":
            members.erased.add(step[1])
            erasure = {"id": f"x-{step[1]}", "type": "members.member_erased", "payload": {"member_id": step[1]}}
            unit.once(erasure, directory.member_erased)
        elif step[0] == "late" and members.sent:
            deliver(unit, members.sent[step[1] % len(members.sent)])
        elif step[0] == "reread":
            for _ in range(2):  # a re-read retried part-way reads the same snapshots again
                with unit.transaction() as session:
                    for member_id in step[1]:
                        if member_id in members.records and member_id not in members.erased:
                            directory.project_member(session, members.snapshot(member_id))


def recount(session):
    """{(organization id, path): (members, official)} from the directory's membership rows."""
    counted = Counter()
    for row in session.scalars(select(directory.Membership)):
        if row.in_party:
            for organization_id, path in chain(row.organization_path):
                counted[(organization_id, path, "members")] += 1
                counted[(organization_id, path, "official")] += row.status == "official"
    keys = {key[:2] for key in counted}
    return {key: (counted[(*key, "members")], counted[(*key, "official")]) for key in keys}


def kept(session):
    rows = session.scalars(select(directory.totals.Row)).all()
    return {(r.organization_id, r.organization_path): (r.members, r.official) for r in rows if r.members or r.official}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_the_totals_are_always_a_recount_of_the_directory(steps):
    unit = new_unit()
    try:
        play(unit, steps)
        with unit.reading() as session:
            expected = recount(session)
            assert kept(session) == expected
            for (_, path), (members, official) in expected.items():
                assert directory.members_in(session, path) == (members, official)
                children = {
                    (row["organization_id"], row["organization_path"]): (row["members"], row["official"])
                    for row in directory.children(session, path)
                    if row["members"] or row["official"]  # a child everyone left keeps a row of zeros
                }
                assert children == {
                    key: value
                    for key, value in expected.items()
                    if key[1].startswith(path) and len(ancestor_ids(key[1])) == len(ancestor_ids(path)) + 1
                }
    finally:
        unit.close()
        unit.provider.engine.dispose()


def test_a_committee_reads_its_members_and_each_childs_without_counting_them():
    unit = new_unit()
    members = Members()
    for member_id, organization_id, status in (
        (1, 7, "official"),
        (2, 7, "probationary"),
        (3, 9, "official"),
        (4, 10, "official"),
        (5, 8, "expelled"),
    ):
        members.records[member_id] = (organization_id, status)
        deliver(unit, members.publish(member_id))
    with unit.reading() as session:
        assert directory.members_in(session, "/1/") == (4, 3)
        assert directory.members_in(session, "/1/2/") == (3, 2)
        assert directory.children(session, "/1/2/") == [
            {"organization_id": 4, "organization_path": "/1/2/4/", "members": 2, "official": 1},
            {"organization_id": 5, "organization_path": "/1/2/5/", "members": 1, "official": 1},
        ]
        assert directory.members_in(session, "/1/2/4/8/") == (0, 0)  # nobody in the party there
        # a document's audience: the whole province, or two organisations in it (one inside the other counts once)
        assert directory.audience(session, "/1/2/4/", ["/1/"]) == (2, {7: 2})
        assert directory.audience(session, "/1/2/", ["/1/2/4/7/", "/1/2/4/", "/1/2/5/9/", "/1/3/"]) == (3, {4: 2, 5: 1})
        assert directory.audience(session, "/1/", ["/1/3/6/10/"]) == (1, {3: 1})
        assert directory.audience(session, "/1/2/", ["/1/3/"]) == (0, {})
    with unit.transaction() as session:  # a directory that switches totals on later counts what it holds
        session.execute(directory.totals.table.delete())
        directory.recount(session)
    with unit.reading() as session:
        assert kept(session) == recount(session)
    unit.close()
