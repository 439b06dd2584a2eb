"""Whether a service's database is what its models say."""

import importlib

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from shared.migrations import managed


def differences(service, url):
    """What Alembic would still have to change so the database at `url` matches `service`'s models."""
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True, "include_name": managed}), metadata
            )
    finally:
        engine.dispose()
