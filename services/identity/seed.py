"""Demo accounts for the embedded default (never in production): `python -m services.identity.seed`.

Sets the README's demo password on the accounts that start activated; the
others (never activated) get their account on first sign-in.
"""
import sys

from sqlalchemy import func, select

from shared import config
from shared.db import standalone_unit
from services.identity import domain
from services.identity.models import Account, Base

DEMO_PASSWORD = "sotay-demo-2026"
ACTIVE_DEMO_ACCOUNTS = ("001000000000", "001000000001", "001000000002")


def seed(session):
    if session.scalar(select(func.count()).select_from(Account)):
        return False
    for citizen_id in ACTIVE_DEMO_ACCOUNTS:
        domain.set_password(session, citizen_id, DEMO_PASSWORD)
    return True


def main():
    config.load("identity")
    if config.environment() == "production":
        print("Dữ liệu mẫu không dùng cho môi trường production. / Demo data is never seeded in production.")
        return 1
    uow, database = standalone_unit(Base.metadata, "identity", "identity.seed")
    try:
        with uow.transaction() as session:
            created = seed(session)
    finally:
        uow.close()
        database.engine.dispose()
    print("identity: demo accounts seeded" if created else "identity: accounts present, demo seed skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
