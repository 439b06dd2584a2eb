"""Demo accounts for the embedded default (never in production): `python -m services.identity.seed`.

Sets the README's demo password on the accounts that start activated; the
others (never activated) get their account on first sign-in.
"""

import sys

from sqlalchemy import func, select

from shared import seeding
from shared.demo import ACTIVATED_DEMO_ACCOUNTS, DEMO_PASSWORD
from services.identity import domain
from services.identity.models import Account, Base


def seed(uow):
    session = uow.session
    if session.scalar(select(func.count()).select_from(Account)):
        return False
    for citizen_id in ACTIVATED_DEMO_ACCOUNTS:
        domain.set_password(session, citizen_id, DEMO_PASSWORD)
    return True


def main():
    return seeding.run("identity", Base.metadata, seed)


if __name__ == "__main__":
    sys.exit(main())
