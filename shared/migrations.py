"""Per-service Alembic migrations: one history each in `services/<svc>/migrations/versions/`, run through the one
environment and revision template in `shared/alembic_template/` (a service holds only its versions).

    python -m shared.cli revision <service> "<message>"    # a new revision from the models' difference
"""

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

from shared import config
from shared.messaging_tables import outbox_table, processed_event_table

TEMPLATE = config.REPO_ROOT / "shared" / "alembic_template"
SERVICE_OPTION = "sotay_service"


def versions(service):
    return config.REPO_ROOT / "services" / service / "migrations" / "versions"


def alembic_config(service):
    cfg = Config()
    cfg.set_main_option("script_location", str(TEMPLATE))
    cfg.set_main_option("version_locations", str(versions(service)))
    cfg.set_main_option(SERVICE_OPTION, service)
    cfg.set_main_option("sqlalchemy.url", config.database_url(service).replace("%", "%%"))
    cfg.set_main_option("version_table", "alembic_version")
    return cfg


def upgrade(service, revision="head"):
    command.upgrade(alembic_config(service), revision)


def revision(service, message):
    """A new revision of `service`: what its models add to its database at the latest revision."""
    upgrade(service)
    return command.revision(
        alembic_config(service),
        message=message,
        autogenerate=True,
        version_path=str(versions(service)),
        rev_id=f"{_next_number(service):04d}",
    )


def _next_number(service):
    numbers = [int(path.name[:4]) for path in versions(service).glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(numbers, default=0) + 1


def create_messaging_tables():
    """In a service's first migration: the outbox and processed-event tables of shared/messaging_tables.py,
    with their constraints and indexes, as every service's models declare them."""
    from alembic import op

    metadata = MetaData()
    for table in (outbox_table(metadata), processed_event_table(metadata)):
        op.create_table(table.name, *table.columns)
        for index in table.indexes:
            op.create_index(index.name, table.name, [column.name for column in index.columns], unique=index.unique)


def drop_messaging_tables():
    from alembic import op

    op.drop_table("processed_events")
    op.drop_table("outbox")


HAND_KEPT = "fts_"  # full-text tables and indexes (SQLite FTS5 and its shadow tables, GIN): each revision writes them


def managed(name, type_, parent_names):
    """Whether Alembic compares this object with the models: not the full-text objects a revision keeps by hand."""
    return not (type_ in ("table", "index") and name and name.startswith(HAND_KEPT))


def run_env(context, target_metadata):
    """The body of every service's `migrations/env.py`."""
    from shared.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, include_name=managed)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=managed,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # several replicas starting at once: one migrates, the others wait for it
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727372)")
            context.run_migrations()
    engine.dispose()
