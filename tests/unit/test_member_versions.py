"""What the gateway answers a conditional GET /me from (services/gateway/versions.py): versions learnt from members'
answers, forgotten on members' events, never trusted while the feed is away nor longer than `trust` seconds."""

import pytest

from shared.events import envelope
from services.gateway.versions import KnownVersions, MemberChangesFeed


@pytest.fixture
def known(clock):
    versions = KnownVersions(trust=60.0, clock=clock)
    versions.connected()
    return versions


def learnt(known, member_id, version):
    known.learn(member_id, version, known.mark())
    return known.current(member_id)


def test_nothing_is_learnt_or_answered_while_the_feed_is_away(clock):
    known = KnownVersions(clock=clock)
    assert learnt(known, 1, "v1") is None
    known.connected()
    assert learnt(known, 1, "v1") == "v1"
    known.lost()
    assert known.current(1) is None
    known.connected()  # changes may have been missed meanwhile: nothing learnt before is trusted again
    assert known.current(1) is None


def test_a_version_is_trusted_for_a_bounded_time(known, clock):
    assert learnt(known, 1, "v1") == "v1"
    clock.now += 60
    assert known.current(1) == "v1"
    clock.now += 0.5
    assert known.current(1) is None
    known.prune()
    assert len(known) == 0


def test_a_change_forgets_that_member_only_and_an_unattributed_one_everyone(known):
    learnt(known, 1, "v1")
    learnt(known, 2, "v2")
    known.forget(1)
    assert known.current(1) is None and known.current(2) == "v2"
    known.forget_all()
    assert known.current(2) is None


def test_an_answer_on_its_way_when_its_member_changed_is_not_learnt(known):
    asked = known.mark()
    known.forget(1)  # the event (or the member's own write) came before the older answer
    known.learn(1, "old", asked)
    assert known.current(1) is None
    asked = known.mark()
    known.forget(2)  # another member's change does not hold this one back
    known.learn(1, "v1", asked)
    assert known.current(1) == "v1"
    asked = known.mark()
    known.lost()
    known.connected()
    known.learn(1, "v1", asked)
    assert known.current(1) is None


def test_an_answer_slower_than_the_trust_is_not_learnt(known, clock):
    asked = known.mark()
    clock.now += 61
    known.learn(1, "v1", asked)
    assert known.current(1) is None


def test_the_least_recently_learnt_go_first_past_the_limit(known):
    known.LIMIT = 2
    for member_id in (1, 2, 3):
        learnt(known, member_id, f"v{member_id}")
    assert known.current(1) is None and known.current(3) == "v3" and len(known) == 2


@pytest.mark.parametrize(
    "event, forgotten",
    [
        (envelope("members.member_updated", {"member_id": 1}), {1}),
        (envelope("members.position_changed", {"member_id": 1, "role": "secretary"}), {1}),
        (envelope("members.member_transferred", {"member_id": 1}), {1}),
        (envelope("members.member_erased", {"member_id": 1}), {1}),
        (envelope("members.members_imported", {"job_id": "j", "accepted": 3}), {1, 2}),
        (envelope("members.something_new", {"member_id": 1}), {1, 2}),  # not known to be about one member
        (envelope("members.member_updated", {"member_id": "1"}), {1, 2}),
        ({"type": "members.member_updated"}, {1, 2}),  # no envelope
    ],
)
def test_which_events_forget_whom(known, event, forgotten):
    feed = MemberChangesFeed("gateway", "amqp://nowhere", known)
    for member_id in (1, 2):
        learnt(known, member_id, f"v{member_id}")
    feed.on_event(event)
    assert {m for m in (1, 2) if known.current(m) is None} == forgotten
