"""identity's and notify's projections of members, as they were before the library's directory, survive the
migration to it (SQLite through the services' own migrations, no broker)."""

from sqlalchemy import text

from shared import config, migrations
from shared.db import make_engine, standalone_unit


def rows(service, sql):
    engine = make_engine(config.database_url(service))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def write(service, *statements):
    engine = make_engine(config.database_url(service))
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def test_identity_keeps_its_members_positions_and_rollout(settings):
    migrations.upgrade("identity", "0004_ended_sessions")
    write(
        "identity",
        "INSERT INTO member_directory (member_id, citizen_id, full_name, phone, imported_phone, status, "
        "organization_id, organization_path, updated_at) VALUES "
        "(5, '001000000005', 'Đỗ Văn Năm', '+84912000005', '+84912000005', 'official', 4, '/1/2/3/4/', "
        "'2026-01-01'), (6, '001000000006', 'Đỗ Văn Sáu', NULL, NULL, 'expelled', 4, '/1/2/3/4/', '2026-01-01')",
        "INSERT INTO positions (member_id, organization_id, role, organization_path) "
        "VALUES (5, 3, 'secretary', '/1/2/3/')",
        "INSERT INTO rollouts (organization_id, organization_path, state) VALUES (2, '/1/2/', 'pilot')",
    )
    migrations.upgrade("identity")
    from services.identity.models import Base, directory

    unit, database = standalone_unit(Base.metadata, "identity")
    try:
        with unit.reading() as session:
            five, six = session.get(directory.Membership, 5), session.get(directory.Membership, 6)
            assert (five.citizen_id, five.imported_phone, five.in_party, six.in_party) == (
                "001000000005",
                "+84912000005",
                True,
                False,
            )
            assert directory.scope(session, 5).manages("/1/2/3/4/")
            assert directory.rolled_out(session, "/1/2/3/4/", ("pilot", "live"))
            assert session.get(directory.Organization, 4).level == "branch"
    finally:
        unit.close()
        database.engine.dispose()


def test_notify_keeps_its_recipients_and_live_committees(settings):
    migrations.upgrade("notify", "0003")
    write(
        "notify",
        "INSERT INTO recipients (member_id, full_name, organization_path, phone, email, language, activated, "
        "in_party) VALUES (5, 'Đỗ Văn Năm', '/1/2/3/4/', '+84912000005', NULL, 'en', 0, 1), "
        "(6, 'Đỗ Văn Sáu', '/1/2/3/4/', NULL, NULL, 'vi', 1, 0)",
        "INSERT INTO live_committees (organization_id, organization_path) VALUES (2, '/1/2/')",
    )
    migrations.upgrade("notify")
    assert rows(
        "notify", "SELECT member_id, organization_id, status, language, phone FROM directory_members ORDER BY member_id"
    ) == [(5, 4, "official", "en", "+84912000005"), (6, 4, "removed", "vi", None)]
    assert rows("notify", "SELECT id, path, level, rollout FROM directory_organizations ORDER BY id") == [
        (2, "/1/2/", "provincial", "live"),
        (4, "/1/2/3/4/", "branch", "disabled"),
    ]
