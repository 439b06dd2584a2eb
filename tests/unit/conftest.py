"""The unit tier runs without a broker (`make test-unit` with RabbitMQ stopped): a test here that asks for
one fails at once, saying where it belongs."""

import pytest


@pytest.fixture
def vhost():
    pytest.fail("A unit test needs no broker: use `database_settings`, or move the test to tests/integration.")


def _world(world_class, metadata, path):
    from tests.support.worlds import unit_of_work

    uow = unit_of_work(metadata, path)
    yield world_class(uow)
    uow.close()
    uow.provider.engine.dispose()


@pytest.fixture
def members_world(tmp_path):
    """members' tables in a fresh SQLite file, empty: each test makes the organisations and members it needs."""
    from services.members.models import Base
    from tests.support.worlds import MembersWorld

    yield from _world(MembersWorld, Base.metadata, tmp_path / "members.db")


@pytest.fixture
def notify_world(database_settings, tmp_path):
    """notify's tables in a fresh SQLite file, empty (codes are sealed under a key in the test's data directory)."""
    from services.notify.models import Base
    from tests.support.worlds import NotifyWorld

    yield from _world(NotifyWorld, Base.metadata, tmp_path / "notify.db")
