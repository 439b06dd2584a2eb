"""The set of ended sessions every service keeps (shared/revocation.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import InvalidToken, ServiceUnavailable
from shared.revocation import EndedSessions


class Clock:
    now = 1_000_000.0

    def __call__(self):
        return self.now


def test_nothing_is_accepted_until_restored_and_ends_heard_meanwhile_are_kept():
    clock = Clock()
    ended = EndedSessions(clock)
    ended.end(["heard-before-restore"], clock.now + 60)
    with pytest.raises(ServiceUnavailable):
        ended.check("any")
    ended.restore([{"session_id": "from-identity", "until": datetime.fromtimestamp(clock.now + 60, UTC).isoformat()}])
    for session_id in ("heard-before-restore", "from-identity"):
        with pytest.raises(InvalidToken):
            ended.check(session_id)
    ended.check("alive")


def test_an_end_is_forgotten_once_its_last_token_expired():
    clock = Clock()
    ended = EndedSessions(clock)
    ended.restore([])
    ended.end(["s"], clock.now + 900)
    clock.now += 899
    with pytest.raises(InvalidToken):
        ended.check("s")
    clock.now += 2
    ended.check("s")
    ended.prune()
    assert len(ended) == 0


def test_a_lost_connection_makes_it_refuse_again_until_restored():
    ended = EndedSessions()
    ended.restore([])
    ended.unready()
    with pytest.raises(ServiceUnavailable):
        ended.check("any")


def test_the_later_until_wins():
    clock = Clock()
    ended = EndedSessions(clock)
    ended.restore([])
    later = datetime.fromtimestamp(clock.now, UTC) + timedelta(minutes=15)
    ended.end(["s"], later.isoformat())
    ended.end(["s"], clock.now + 10)
    clock.now += 600
    with pytest.raises(InvalidToken):
        ended.check("s")


def test_a_busy_set_still_forgets_expired_ends():
    clock = Clock()
    ended = EndedSessions(clock)
    ended.end(["old"], clock.now + 10)
    clock.now += EndedSessions.PRUNE_EVERY + 1
    ended.end(["new"], clock.now + 900)
    assert len(ended) == 1
