"""A committee's study progress from running totals: who may see it, which documents, and — after any sequence of
reads, passes, transfers, leaving and rejoining the party, erasures, organisations moved and events delivered late
or twice — totals that equal a recount of content's own rows."""

import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.pool import StaticPool

from shared.auth import Principal
from shared.db import Database, UnitOfWork
from shared.errors import NotFound
from shared.events import envelope
from shared.tallies import chain
from services.content import audience, documents, privacy, progress, reading, study
from services.content.models import Base, Read, StudyResult, directory, document_totals
from tests.support.worlds import BRANCH, GRASSROOTS, OTHER_BRANCH, OTHER_PROVINCE_BRANCH, PROVINCE

QUIZ = {
    "questions": [{"text": "Đại hội lần thứ mấy?", "options": ["XIII", "XIV"], "correct": [1]}],
    "pass_mark": 1.0,
    "max_attempts": 100,
}


def _progress(world, principal, organization_id, document_id):
    return progress.study_progress(world.uow.session, principal, organization_id, document_id)


def test_a_province_sees_audience_read_and_passed_for_itself_and_each_organisation_below(content_world):
    w = content_world
    province = w.officer(PROVINCE)
    lesson = w.publish(province, PROVINCE, category="study", study=True)
    with w.uow.transaction():
        study.set_quiz(w.uow, province, lesson, QUIZ)
    here = [w.member(BRANCH) for _ in range(3)]
    there = w.member(OTHER_BRANCH)
    w.member(OTHER_BRANCH, status="expelled")  # out of the party: not in the audience
    for member in (*here, there):
        with w.uow.transaction():
            reading.mark_read(w.uow, member, lesson)
    with w.uow.transaction():
        reading.mark_read(w.uow, here[0], lesson)  # a repeat counts once
        study.attempt(w.uow, here[0], lesson, [[1]])
        study.attempt(w.uow, here[0], lesson, [[1]])  # passed once
        study.attempt(w.uow, here[1], lesson, [[0]])  # failed

    figures = _progress(w, province, 2, lesson)
    # the province's officer is a member there too (officer() makes them live there): 5 in the party
    assert (figures["organization_id"], figures["document_id"]) == (2, lesson)
    assert (figures["audience"], figures["read"], figures["passed"]) == (5, 4, 1)
    assert figures["children"] == [{"organization_id": 3, "audience": 4, "read": 4, "passed": 1}]
    below = _progress(w, province, 3, lesson)["children"]
    assert below == [
        {"organization_id": 4, "audience": 3, "read": 3, "passed": 1},
        {"organization_id": 5, "audience": 1, "read": 1, "passed": 0},
    ]

    w.move(here[0], OTHER_BRANCH)  # a transfer takes the member's read and pass along
    w.move(here[2], BRANCH, status="expelled")  # leaving the party takes them out of audience and reads
    below = _progress(w, province, 3, lesson)["children"]
    assert below == [
        {"organization_id": 4, "audience": 1, "read": 1, "passed": 0},
        {"organization_id": 5, "audience": 2, "read": 2, "passed": 1},
    ]
    w.move(here[2], BRANCH)  # rejoined: their reading counts again
    assert _progress(w, province, 4, lesson)["read"] == 2
    with w.uow.transaction():
        privacy.erase(w.uow, province, here[2].member_id, "Yêu cầu xoá")
    assert _progress(w, province, 4, lesson)["read"] == 1


def test_a_narrower_audience_is_what_the_rates_divide_by(content_world):
    w = content_world
    province = w.officer(PROVINCE)
    for _ in range(2):
        w.member(BRANCH)
    w.member(OTHER_BRANCH)  # in the grassroots committee, but not addressed
    document_id = w.publish(province, BRANCH)
    figures = _progress(w, province, 2, document_id)
    assert figures["audience"] == 2
    assert figures["children"] == [{"organization_id": 3, "audience": 2, "read": 0, "passed": 0}]


def test_only_the_officers_over_an_organisation_see_its_progress_and_only_for_what_its_members_see(content_world):
    w = content_world
    province = w.officer(PROVINCE)
    branch_secretary = w.officer(BRANCH)
    member = w.member(BRANCH)
    w.member(OTHER_BRANCH)
    document_id = w.publish(province, OTHER_BRANCH)
    for who, organization_id in ((member, 4), (branch_secretary, 3), (province, 999)):
        with pytest.raises(NotFound):  # a plain member, an officer below it, an organisation unknown
            _progress(w, who, organization_id, document_id)
    with pytest.raises(NotFound):  # the branch's members do not see a document addressed to its neighbour
        _progress(w, province, 4, document_id)
    elsewhere = w.officer(OTHER_PROVINCE_BRANCH)
    with pytest.raises(NotFound):
        _progress(w, elsewhere, 2, document_id)
    draft = w.write(province, PROVINCE)
    with pytest.raises(NotFound):  # not published: no member sees it
        _progress(w, province, 2, draft)
    with pytest.raises(NotFound):
        _progress(w, province, 2, 424242)
    with w.uow.transaction():
        documents.withdraw(w.uow, province, document_id)
    with pytest.raises(NotFound):
        _progress(w, province, 3, document_id)
    assert _progress(w, branch_secretary, 4, w.publish(province, GRASSROOTS))["audience"] == 2


def test_a_document_addressed_to_two_of_a_members_organisations_is_listed_and_counted_once(content_world):
    w = content_world
    province = w.officer(PROVINCE)
    member = w.member(BRANCH)
    w.publish(province, PROVINCE, BRANCH, title="Chỉ thị hai cấp")
    assert w.titles(member) == ["Chỉ thị hai cấp"]
    assert w.titles(member, q="chi thi") == ["Chỉ thị hai cấp"]
    assert reading.unread_count(w.uow.session, member) == {"unread": 1}


# --- totals equal a recount, whatever happens -------------------------------------------------------------------

# centre 1; provinces 2, 3; grassroots 4, 5 (in 2) and 6 (in 3); branches 7, 8 (in 4), 9 (in 5), 10 (in 6)
PARENTS = {2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 4, 8: 4, 9: 5, 10: 6}
GRASSROOTS_IDS, BRANCH_IDS = (4, 5, 6), (7, 8, 9, 10)
STATUSES = ("probationary", "official", "expelled")
AUTHOR = Principal(member_id=1000, citizen_id="001990001000", session_id="s")

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("change"),
            st.integers(1, 6),
            st.sampled_from(BRANCH_IDS + GRASSROOTS_IDS),
            st.sampled_from(STATUSES),
        ),
        st.tuples(st.just("read"), st.integers(1, 6), st.integers(0, 1)),
        st.tuples(st.just("attempt"), st.integers(1, 6), st.booleans()),
        st.tuples(st.just("move"), st.sampled_from(BRANCH_IDS + GRASSROOTS_IDS), st.integers(0, 2)),
        st.tuples(st.just("erase"), st.integers(1, 6), st.booleans()),
        st.tuples(st.just("late"), st.integers(0, 50)),
    ),
    max_size=40,
)


class Members:
    def __init__(self):
        self.parents, self.records, self.erased, self.sent = dict(PARENTS), {}, set(), []
        self.ids = itertools.count(1)

    def path(self, organization_id):
        above = [organization_id]
        while above[0] in self.parents:
            above.insert(0, self.parents[above[0]])
        return "/" + "/".join(map(str, above)) + "/"

    def publish(self, member_id):
        organization_id, status = self.records[member_id]
        payload = {
            "member_id": member_id,
            "status": status,
            "organization_id": organization_id,
            "organization_path": self.path(organization_id),
        }
        self.sent.append({"id": f"e-{next(self.ids)}", "type": "members.member_updated", "payload": payload})
        return self.sent[-1]


def new_world():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    database = Database(Base.metadata)
    database.use_engine(engine)
    unit = UnitOfWork(database, "test", {})
    officer = {"member_id": AUTHOR.member_id, "status": "official", "organization_id": 1, "organization_path": "/1/"}
    position = {**officer, "role": "system_administrator", "action": "assigned"}
    position.pop("status")
    with unit.transaction() as session:
        progress.project_member(session, officer)
        audience.position_changed(session, envelope("members.position_changed", position))
    lessons = []
    for title in ("Bài một", "Bài hai"):
        data = {"category": "study", "title": title, "summary": None, "body": "Học.", "audience": [1]}
        with unit.transaction():
            lesson = documents.create(unit, AUTHOR, {**data, "publish_at": None, "study": True}).id
            documents.publish(unit, AUTHOR, lesson)
            study.set_quiz(unit, AUTHOR, lesson, QUIZ)
        lessons.append(lesson)
    return unit, lessons


def play(unit, lessons, steps):
    members = Members()
    for step in steps:
        kind, *args = step
        if kind == "change" and args[0] not in members.erased:
            members.records[args[0]] = (args[1], args[2])
            unit.once(members.publish(args[0]), progress.member_changed)
        elif kind in ("read", "attempt"):
            member = Principal(member_id=args[0], citizen_id="", session_id="s")
            try:
                with unit.transaction():
                    if kind == "read":
                        reading.mark_read(unit, member, lessons[args[1]])
                    else:
                        study.attempt(unit, member, lessons[0], [[1 if args[1] else 0]])
            except NotFound:  # not in the party (or not heard of): they see nothing
                pass
        elif kind == "move":
            level = (2, 3) if args[0] in GRASSROOTS_IDS else GRASSROOTS_IDS
            members.parents[args[0]] = level[args[1] % len(level)]
            for member_id in sorted(set(members.records) - members.erased):  # members republishes them all
                unit.once(members.publish(member_id), progress.member_changed)
        elif kind == "erase":
            members.erased.add(args[0])
            if args[1]:  # members' order to erase, or its event: whichever comes first, the totals let go
                with unit.transaction():
                    privacy.erase(unit, AUTHOR, args[0], "Yêu cầu")
            erasure = envelope("members.member_erased", {"member_id": args[0]})
            unit.once({**erasure, "id": f"x-{args[0]}"}, progress.member_erased)
        elif kind == "late" and members.sent:
            unit.once(members.sent[args[0] % len(members.sent)], progress.member_changed)


def recounted(session):
    """{(document, organisation, path): (read, passed)} counted from the rows themselves."""
    counted = Counter()
    for model, kind in ((Read, "read"), (StudyResult, "passed")):
        for row in session.scalars(select(model)):
            member = session.get(directory.Membership, row.member_id)
            if member is None or not member.in_party or (kind == "passed" and not row.passed):
                continue
            for organization_id, path in chain(member.organization_path):
                counted[(row.document_id, organization_id, path, kind)] += 1
    keys = {key[:3] for key in counted}
    return {key: (counted[(*key, "read")], counted[(*key, "passed")]) for key in keys}


def kept(session):
    rows = session.scalars(select(document_totals.Row)).all()
    return {(r.subject, r.organization_id, r.organization_path): (r.read, r.passed) for r in rows if r.read or r.passed}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_the_study_totals_always_equal_a_recount(steps):
    unit, lessons = new_world()
    play(unit, lessons, steps)
    with unit.transaction() as session:
        assert kept(session) == recounted(session)
        progress.recount(session, documents_per_pass=1)  # a recount (the migration's, a repair) gives the same
    with unit.transaction() as session:
        assert kept(session) == recounted(session)


def test_the_revision_that_starts_the_totals_counts_what_is_already_there(tmp_path):
    from nameko import config as nameko_config

    from shared import config, migrations

    with nameko_config.patch({"DATA_DIR": str(tmp_path)}, clear=True):
        migrations.upgrade("content", "0004")
        engine = create_engine(config.database_url("content"))
        with engine.begin() as connection:
            for member_id, path, in_party in ((1, "/1/2/3/", 1), (2, "/1/2/4/", 1), (3, "/1/2/4/", 0)):
                connection.exec_driver_sql(
                    "INSERT INTO directory_members (member_id, organization_id, organization_path, status, in_party,"
                    f" activated) VALUES ({member_id}, {path.split('/')[-2]}, '{path}', 'official', {in_party}, 0)"
                )
            now = "'2026-11-25 00:00:00'"
            for member_id in (1, 2, 3):
                connection.exec_driver_sql(
                    f"INSERT INTO document_reads (member_id, document_id, read_at) VALUES ({member_id}, 7, {now})"
                )
            connection.exec_driver_sql(
                "INSERT INTO study_results (member_id, document_id, attempts, best_score, passed, last_attempt_at)"
                f" VALUES (2, 7, 1, 1.0, 1, {now})"
            )
        migrations.upgrade("content")
        with engine.connect() as connection:
            read = connection.exec_driver_sql(
                "SELECT organization_id, read, passed FROM content_document_totals WHERE subject = 7 ORDER BY 1"
            ).all()
            members = connection.exec_driver_sql("SELECT members FROM directory_totals WHERE organization_id = 2")
            assert members.scalar() == 2  # the one out of the party is not counted
        engine.dispose()
    assert read == [(1, 2, 1), (2, 2, 1), (3, 1, 0), (4, 1, 1)]
