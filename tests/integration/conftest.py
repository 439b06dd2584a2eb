import pytest

from shared import migrations
from shared.db import standalone_unit


@pytest.fixture
def members_uow(database_settings):
    """members' own database at its latest migration, with the demo tree and members."""
    from services.members import seed
    from services.members.models import Base

    migrations.upgrade("members")
    unit, database = standalone_unit(Base.metadata, "members")
    with unit.transaction():
        seed.seed(unit)
    yield unit
    unit.close()
    database.engine.dispose()


@pytest.fixture
def notify_db(database_settings):
    """notify's own database at its latest migration: (unit of work, Database)."""
    from services.notify.models import Base

    migrations.upgrade("notify")
    unit, database = standalone_unit(Base.metadata, "notify")
    yield unit, database
    unit.close()
    database.engine.dispose()
