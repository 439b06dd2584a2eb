"""Per-service Alembic migrations: `services/<svc>/migrations/`, one history each."""
from alembic import command
from alembic.config import Config

from shared import config


def alembic_config(service):
    cfg = Config()
    cfg.set_main_option("script_location", str(config.REPO_ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", config.database_url(service).replace("%", "%%"))
    cfg.set_main_option("version_table", "alembic_version")
    return cfg


def upgrade(service, revision="head"):
    command.upgrade(alembic_config(service), revision)


def run_env(context, target_metadata):
    """The body of every service's `migrations/env.py`."""
    from shared.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # several replicas starting at once: one migrates, the others wait for it
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727372)")
            context.run_migrations()
    engine.dispose()
