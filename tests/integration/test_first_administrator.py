"""The operator command that makes the first system administrator of an installation (issue 8, item 1)."""

from datetime import date

from sqlalchemy import select

from shared.db import standalone_unit
from services.identity import admin
from services.identity.models import AuditEvent, Base as IdentityBase
from services.members import domain as members_domain
from services.members.models import AuditEntry, Base as MembersBase, Position


def _members_unit():
    return standalone_unit(MembersBase.metadata, "members")


def test_the_first_administrator_is_granted_once_and_audited(prepare, containers, capsys):
    prepare("identity")
    containers(prepare("members"))
    uow, database = _members_unit()
    with uow.transaction() as session:
        centre = members_domain.create_organization(session, "TW", "Đảng Cộng sản Việt Nam", "central")
        for n in (1, 2):
            members_domain.add_member(
                uow,
                {
                    "citizen_id": f"00100000777{n}",
                    "full_name": f"Người Vận Hành {n}",
                    "gender": None,
                    "date_of_birth": date(1980, 1, n),
                    "status": "official",
                    "organization_id": centre.id,
                    "phone": f"+8490777000{n}",
                    "party_card_number": None,
                    "admission_date": None,
                    "official_date": None,
                },
            )
    uow.close()

    assert admin.create("001000007771") == 0
    assert "system administrator" in capsys.readouterr().out
    assert admin.create("001000007772") == 1  # only while nobody is an administrator
    assert "already" in capsys.readouterr().err

    with uow.transaction() as session:
        holders = session.scalars(select(Position.member_id).where(Position.role == "system_administrator")).all()
        audited = session.scalars(select(AuditEntry.action)).all()
    assert len(holders) == 1 and "position.first_administrator" in audited
    uow.close()
    database.engine.dispose()
    unit, identity_db = standalone_unit(IdentityBase.metadata, "identity")
    outcomes = unit.session.execute(
        select(AuditEvent.citizen_id, AuditEvent.outcome).where(AuditEvent.action == "first_administrator")
    ).all()
    assert sorted(outcomes) == [("001000007771", "granted"), ("001000007772", "forbidden")]
    unit.close()
    identity_db.engine.dispose()


def test_production_refuses_demo_data(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SOTAY_ENV": "production", "DATA_DIR": str(tmp_path)}
    for service in ("members", "identity"):
        done = subprocess.run(
            [sys.executable, "-m", f"services.{service}.seed"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1 and "never seeded in production" in done.stdout
    assert not list(tmp_path.iterdir())
