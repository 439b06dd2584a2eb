"""A service that has a consumer but stopped answering: after three deadlines in a row its callers are answered
at once, one probe a while later decides whether it is back (issue 9 item 3)."""

from shared.rpc import Breaker


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_three_timeouts_in_a_row_open_the_breaker_and_an_answered_probe_closes_it():
    clock = Clock()
    breaker = Breaker(timeouts=3, open_for=5, clock=clock)
    for _ in range(2):
        assert breaker.allow("members")
        breaker.timed_out("members")
    assert breaker.allow("members")  # two in a row: still trying
    breaker.timed_out("members")
    assert not breaker.allow("members")  # three: answered at once
    clock.now += 5
    assert breaker.allow("members")  # one probe goes through…
    assert not breaker.allow("members")  # …and only one
    breaker.answered("members")
    assert breaker.allow("members") and breaker.allow("members")


def test_a_probe_that_times_out_opens_it_again_and_an_answer_resets_the_count():
    clock = Clock()
    breaker = Breaker(timeouts=3, open_for=5, clock=clock)
    for _ in range(3):
        breaker.timed_out("notify")
    clock.now += 5
    assert breaker.allow("notify")
    breaker.timed_out("notify")
    assert not breaker.allow("notify")
    clock.now += 4.9
    assert not breaker.allow("notify")

    breaker.timed_out("identity")
    breaker.timed_out("identity")
    breaker.answered("identity")  # an answer (an error too) means it is alive
    breaker.timed_out("identity")
    assert breaker.allow("identity")
    assert breaker.allow("members")  # other services are not affected
