"""Migrations: a fresh database upgraded to the latest revision is what the models say, for every service with a
database, through the one Alembic environment in shared/alembic_template/."""

import pytest
from nameko import config as nameko_config

from shared import config, migrations, registry
from tests.support.schema import differences

DATABASES = [service.name for service in registry.with_database()]


@pytest.mark.parametrize("service", DATABASES)
def test_a_fresh_sqlite_database_at_the_latest_revision_is_what_the_models_say(service, tmp_path):
    with nameko_config.patch({"DATA_DIR": str(tmp_path)}, clear=True):
        migrations.upgrade(service)
        assert differences(service, config.database_url(service)) == []


@pytest.mark.parametrize("service", DATABASES)
def test_a_service_keeps_only_its_revisions_and_the_first_one_makes_the_messaging_tables(service):
    folder = config.REPO_ROOT / "services" / service / "migrations"
    assert {path.name for path in folder.iterdir() if path.name != "__pycache__"} == {"versions"}
    first = next(migrations.versions(service).glob("0001_*.py")).read_text()
    assert "create_messaging_tables()" in first and "drop_messaging_tables()" in first
    assert "'outbox'" not in first
