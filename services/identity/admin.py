"""Operator commands for identity: `python -m services.identity.admin create --citizen-id 0010…`.

  create --citizen-id ID   make the first system administrator of an installation. Positions belong
                           to members, so members grants it (only while nobody is an administrator,
                           recorded in its audit_log); identity records who ran the command. Then it
                           prints how that person activates their account.

Later administrators are appointed by an administrator (`POST /members/{id}/positions`).
"""

import argparse
import getpass
import socket
import sys

from sqlalchemy import select

from shared import config
from shared.contracts.common import is_citizen_id
from shared.db import standalone_unit
from shared.errors import SotayError
from shared.rpc import call_once
from services.identity import activation
from services.identity.models import Account, Base, DirectoryEntry
from services.identity.trail import audit


def _operator():
    return {"operator": getpass.getuser(), "host": socket.gethostname()}


def create(citizen_id):
    unit, database = standalone_unit(Base.metadata, "identity", "identity.admin")
    try:
        try:
            member = call_once("identity", "members", "grant_first_administrator", citizen_id)
        except SotayError as exc:
            with unit.transaction() as session:
                audit(session, "first_administrator", exc.code, citizen_id=citizen_id, detail=_operator())
            print(f"refused: {exc.message}", file=sys.stderr)
            return 1
        with unit.transaction() as session:
            audit(
                session,
                "first_administrator",
                "granted",
                citizen_id=citizen_id,
                member_id=member["id"],
                detail=_operator(),
            )
            entry = session.get(DirectoryEntry, member["id"])
            account = session.scalar(select(Account).where(Account.citizen_id == citizen_id))
            phone = activation.channel(entry, account)
    finally:
        unit.close()
        database.engine.dispose()
    print(f"{member['full_name']} ({citizen_id}) là quản trị hệ thống. / is now a system administrator.")
    if account is not None and account.activated_at is not None:
        print("The account is already activated: sign in as usual (POST /api/v1/auth/login).")
    elif phone:
        print(
            f'To activate: POST /api/v1/auth/activation {{"citizen_id": "{citizen_id}"}} — the code goes to '
            f"the phone imported from the party member database ({activation.mask(phone)}); or sign in with VNeID."
        )
    else:
        print(
            "No phone was imported for this member: they activate by signing in with VNeID "
            "(GET /api/v1/auth/vneid/login). A phone given at activation would need an administrator's confirmation."
        )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m services.identity.admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    created = commands.add_parser("create", help="the first system administrator of an installation")
    created.add_argument("--citizen-id", required=True)
    args = parser.parse_args(argv)
    if not is_citizen_id(args.citizen_id):
        parser.error("a citizen ID is 12 ASCII digits")
    config.load("identity")
    return create(args.citizen_id)


if __name__ == "__main__":
    sys.exit(main())
