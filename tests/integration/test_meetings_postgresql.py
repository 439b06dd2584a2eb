"""meetings on PostgreSQL, the production datastore: a meeting from scheduling to a secret vote, and what a secret
vote leaves in the database (row versions included)."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from shared import migrations
from shared.contracts.meetings import AlreadyVoted
from shared.contracts.members import SECRETARY
from shared.db import standalone_unit, utcnow
from services.meetings import domain, voting
from services.meetings.models import Base
from tests.integration.test_postgresql import databases  # noqa: F401 (the fixture)
from tests.support.meetings_world import MeetingsWorld


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
