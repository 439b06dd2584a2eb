"""Sign-in throttling per citizen ID: a progressive delay after 5 failures, capped at 15 minutes.

Keyed by the citizen ID as typed, whether or not an account exists, so the
answer (429 with Retry-After) tells an attacker nothing about membership.
"""

import math
from datetime import timedelta

from sqlalchemy import delete

from shared.db import aware, take_turns, utcnow
from shared.errors import TooManyAttempts
from services.identity.models import LoginThrottle

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)


def delay_after(failures):
    """30 s after the 5th failure, doubling each time, never more than 15 minutes."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - FREE_FAILURES))


def too_many_attempts(seconds):
    seconds = max(1, math.ceil(seconds))
    return TooManyAttempts(details={"retry_after": seconds}, headers={"Retry-After": str(seconds)})


def check(session, citizen_id):
    """Raise 429 while the citizen ID is locked out."""
    row = session.get(LoginThrottle, citizen_id)
    refuse_while_locked(row.locked_until if row is not None else None)


def refuse_while_locked(locked_until):
    """Raise 429 until `locked_until` (a throttle row's, read by the caller; None: not locked)."""
    if locked_until is not None:
        remaining = (aware(locked_until) - utcnow()).total_seconds()
        if remaining > 0:
            raise too_many_attempts(remaining)


def record_failure(session, citizen_id):
    """Count a failure; returns the lock's end when this failure starts one, else None."""
    take_turns(session, f"login:{citizen_id}")  # replicas counting failures at once lose none
    row = session.get(LoginThrottle, citizen_id, populate_existing=True)
    if row is None:
        row = LoginThrottle(citizen_id=citizen_id, failures=0)
        session.add(row)
    row.failures += 1
    row.updated_at = utcnow()
    delay = delay_after(row.failures)
    if delay:
        row.locked_until = utcnow() + delay
        return row.locked_until
    return None


def record_success(session, citizen_id):
    table = LoginThrottle.__table__
    session.execute(delete(table).where(table.c.citizen_id == citizen_id))
