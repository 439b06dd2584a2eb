"""The unit tier runs without a broker (`make test-unit` with RabbitMQ stopped): a test here that asks for
one fails at once, saying where it belongs."""

import pytest

from services.content.models import Base as ContentBase
from services.members.models import Base as MembersBase
from services.notify.models import Base as NotifyBase
from tests.support.worlds import ContentWorld, MembersWorld, NotifyWorld, unit_of_work


@pytest.fixture
def vhost():
    pytest.fail("A unit test needs no broker: use `database_settings`, or move the test to tests/integration.")


def _world(world_class, metadata, path):
    uow = unit_of_work(metadata, path)
    yield world_class(uow)
    uow.close()
    uow.provider.engine.dispose()


@pytest.fixture
def members_world(tmp_path):
    """members' tables in a fresh SQLite file, empty: each test makes the organisations and members it needs."""
    yield from _world(MembersWorld, MembersBase.metadata, tmp_path / "members.db")


@pytest.fixture
def notify_world(database_settings, tmp_path):
    """notify's tables in a fresh SQLite file, empty (codes are sealed under a key in the test's data directory)."""
    yield from _world(NotifyWorld, NotifyBase.metadata, tmp_path / "notify.db")


@pytest.fixture
def blob_dir(tmp_path, monkeypatch):
    """Attachments stored as files under the test's own BLOB_DIR (never S3)."""
    monkeypatch.setenv("BLOB_DIR", str(tmp_path / "blobs"))
    monkeypatch.delenv("BLOB_S3_BUCKET", raising=False)
    return tmp_path / "blobs"


@pytest.fixture
def meetings_world(tmp_path):
    """meetings' tables in a fresh SQLite file, its directory empty: each test makes the members it needs."""
    from services.meetings.models import Base as MeetingsBase
    from tests.support.meetings_world import MeetingsWorld

    yield from _world(MeetingsWorld, MeetingsBase.metadata, tmp_path / "meetings.db")


@pytest.fixture
def content_world(tmp_path):
    """content's tables in a fresh SQLite file (full-text search included), empty."""
    yield from _world(ContentWorld, ContentBase.metadata, tmp_path / "content.db")


class Clock:
    """A monotonic clock the test moves (`clock.now += 60`)."""

    now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()
