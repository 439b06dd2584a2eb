"""meetings on PostgreSQL, the production datastore: a meeting from scheduling to a secret vote, and what a secret
vote leaves in the database (row versions included)."""

from datetime import timedelta

import eventlet
import pytest
from eventlet import tpool
from sqlalchemy import text

from shared import migrations
from shared.contracts.meetings import AlreadyVoted
from shared.contracts.members import SECRETARY
from shared.db import standalone_unit, utcnow
from services.meetings import attendance, domain, listing, totals, voting
from services.meetings.models import Base, attendance_totals
from tests.integration.test_postgresql import databases  # noqa: F401 (the fixture)
from tests.support.meetings_world import MeetingsWorld
from tests.support.waiting import wait_for


@pytest.fixture
def world(databases):  # noqa: F811
    migrations.upgrade("meetings")
    unit, database = standalone_unit(Base.metadata, "meetings")
    yield MeetingsWorld(unit)
    unit.close()
    database.engine.dispose()


def test_a_secret_vote_on_postgresql_links_no_member_to_a_choice(world):
    *_, branch = world.chain()
    secretary = world.member(branch, (SECRETARY, branch))
    voters = [world.member(branch) for _ in range(3)]
    meeting = world.schedule(secretary, branch, starts_at=utcnow() + timedelta(minutes=5))["id"]
    with world.uow.transaction():
        domain.start_meeting(world.uow, secretary, meeting)
        vote = voting.create_vote(
            world.uow, secretary, meeting, {"question": "?", "secret": True, "eligible": "official", "options": None}
        )
    before = listing.get_meeting(world.session, voters[0], meeting)["version"]  # its activity read on PostgreSQL
    for member_id, choice in zip(voters, ("agree", "disagree", "agree"), strict=True):
        with world.uow.transaction():
            voting.cast_ballot(world.uow, member_id, vote["id"], choice)
    with pytest.raises(AlreadyVoted), world.uow.transaction():
        voting.cast_ballot(world.uow, voters[0], vote["id"], "abstain")

    session = world.session
    tallies = session.execute(text("SELECT xmin::text, choice, count FROM tallies ORDER BY choice")).all()
    assert {choice: count for _, choice, count in tallies} == {"abstain": 0, "agree": 2, "disagree": 1}
    # every counter was rewritten by the last ballot: their row versions name one transaction, not a choice
    assert len({xmin for xmin, _, _ in tallies}) == 1
    assert session.execute(text("SELECT count(*) FROM voters")).scalar() == 3
    with world.uow.transaction():
        results = voting.close_vote(world.uow, secretary, vote["id"])["results"]
    assert results["cast"] == 3 and results["counts"]["agree"] == 2
    assert listing.get_meeting(world.session, voters[0], meeting)["version"] != before  # their ballot, the results


def _waiting_on_a_lock(session):
    """Whether another connection to this database waits for a row lock right now."""
    return session.execute(
        text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
    ).scalar()


@pytest.mark.parametrize("first", ["check_in", "count"])
def test_a_check_in_racing_the_meetings_count_is_counted_exactly_once(world, first):
    """A check-in sent late (valid at `at`) while the meeting's end is being counted: whichever commits first, the
    attendance totals hold it once (the count reads invitees FOR UPDATE; a check-in after it adds itself)."""
    *_, branch = world.chain()
    secretary = world.member(branch, (SECRETARY, branch))
    member = world.member(branch)
    starts = utcnow() - timedelta(hours=3)
    meeting = world.schedule(secretary, branch, now=starts - timedelta(hours=1), starts_at=starts)["id"]
    scanned, later = starts + timedelta(minutes=5), starts + timedelta(hours=2, minutes=30)
    code = attendance.code_at(world.meeting(meeting).secret, scanned)
    other, other_database = standalone_unit(Base.metadata, "meetings", "second")
    observer, observer_database = standalone_unit(Base.metadata, "meetings", "observer")

    def check_in(unit):
        with unit.transaction():
            attendance.check_in(unit, member, meeting, {"code": code, "at": scanned}, now=later)

    def count(unit):
        with unit.transaction():
            totals.count_meeting(unit, meeting, now=later)

    waits = count if first == "check_in" else check_in
    try:
        with world.uow.transaction():  # the first one's work done, not yet committed
            if first == "check_in":
                attendance.check_in(world.uow, member, meeting, {"code": code, "at": scanned}, now=later)
            else:
                totals.count_meeting(world.uow, meeting, now=later)
            # in an OS thread: psycopg blocks its thread while it waits for the lock, and the first must commit
            waiter = eventlet.spawn(tpool.execute, waits, other)
            wait_for(lambda: _waiting_on_a_lock(observer.session), message="the second to wait for the first")
            observer.session.rollback()
        with eventlet.Timeout(30):
            waiter.wait()
        with observer.transaction() as session:
            kept = attendance_totals.subtree(session, totals.month_of(starts), branch)
        assert kept == {"meetings": 1, "invited": 2, "attended": 1}
    finally:
        for unit, database in ((other, other_database), (observer, observer_database)):
            unit.close()
            database.engine.dispose()
