"""Every service's Alembic environment: which service is in the configuration (shared/migrations.py)."""

import importlib

from alembic import context

from shared.migrations import SERVICE_OPTION, run_env

service = context.config.get_main_option(SERVICE_OPTION)
run_env(context, importlib.import_module(f"services.{service}.models").Base.metadata)
