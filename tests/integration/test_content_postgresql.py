"""content on PostgreSQL: its migrations, full-text search over the folded text (a GIN-indexed `simple` tsvector),
ranked, and the scheduler's claim."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from shared import migrations
from shared.db import standalone_unit, utcnow
from services.content import documents
from services.content.models import Base
from tests.integration.test_postgresql import databases  # noqa: F401 (the fixture: a database per service)
from tests.support.schema import differences
from tests.support.worlds import BRANCH, OTHER_BRANCH, ContentWorld


@pytest.fixture
def world(request):
    """content's database on PostgreSQL at the latest revision (every service's fresh database, dropped after)."""
    request.getfixturevalue("databases")
    migrations.upgrade("content")
    uow, database = standalone_unit(Base.metadata, "content")
    yield ContentWorld(uow)
    uow.close()
    database.engine.dispose()


def test_the_database_is_what_the_models_say_and_search_has_its_index(world):
    from shared import config

    assert differences("content", config.database_url("content")) == []
    plan = world.uow.session.execute(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'fts_documents_search'")
    ).scalar()
    assert "gin" in plan and "to_tsvector('simple'" in plan


def test_search_ignores_diacritics_and_case_folds_d_and_ranks_on_postgresql(world):
    secretary = world.officer(BRANCH)
    world.publish(secretary, BRANCH, title="Tin tức", body="Tin ngắn về đại hội")
    world.publish(secretary, BRANCH, title="Nghị quyết Đại hội XIV", body="Văn kiện")
    world.publish(secretary, BRANCH, title="Hướng dẫn", body="Khác hẳn")
    world.publish(world.officer(OTHER_BRANCH), OTHER_BRANCH, title="Nghị quyết của chi bộ bên")
    member = world.member(BRANCH)
    assert world.titles(member, q="nghi quyet dai hoi") == ["Nghị quyết Đại hội XIV"]
    assert world.titles(member, q="ĐẠI HỘI") == ["Nghị quyết Đại hội XIV", "Tin tức"]
    assert world.titles(member, q="dai h") == ["Nghị quyết Đại hội XIV", "Tin tức"]
    assert world.titles(member, q="!!!") == []


def test_the_scheduler_publishes_each_due_document_once_on_postgresql(world):
    secretary = world.officer(BRANCH)
    world.write(secretary, BRANCH, title="Đến giờ", publish_at=utcnow() - timedelta(seconds=1))
    assert documents.publish_due(world.uow) == 1
    assert documents.publish_due(world.uow) == 0
    assert world.titles(world.member(BRANCH)) == ["Đến giờ"]
