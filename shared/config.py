"""Configuration from each service's own YAML file, with environment defaults.

A service's `config.yaml` is read by `nameko run --config …`; scripts (prepare,
seed) read the same file through `load()`, so both see the same values.
"""

import os
from pathlib import Path

from nameko import config

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"


def load(service):
    """Load `services/<service>/config.yaml` into nameko's global config."""
    from nameko.cli.utils.config import setup_config

    path = REPO_ROOT / "services" / service / "config.yaml"
    with open(path, "rb") as handle:
        setup_config(handle)
    return config


def get(key, default=None):
    value = config.get(key)
    if value in (None, ""):
        value = os.environ.get(key, default)
    return value


def amqp_uri():
    return get("AMQP_URI", DEFAULT_AMQP_URI)


def data_dir():
    path = Path(get("DATA_DIR", "var"))
    if not path.is_absolute():
        path = Path.cwd() / path
    return path


PRIVATE_UMASK = 0o077


def keep_files_private():
    """What this process creates (databases, keys, message sinks) is readable by its own user only:
    files 0600, directories 0700."""
    os.umask(PRIVATE_UMASK)


def tighten(directory):
    """Make an existing data directory owner-only (one created before files were kept private)."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    for path in (directory, *directory.rglob("*")):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        if mode & PRIVATE_UMASK:
            path.chmod(mode & ~PRIVATE_UMASK)


def environment():
    """`development` (embedded default, demo data allowed) or `production`."""
    return get("SOTAY_ENV", "development")


def database_url(service):
    """The service's own database: `<SERVICE>_DATABASE_URL`, else a SQLite file under DATA_DIR."""
    url = config.get("DATABASE_URL") or os.environ.get(f"{service.upper()}_DATABASE_URL")
    if url:
        return url
    directory = data_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{directory / (service + '.db')}"


def queue_type():
    """`classic` for the embedded default, `quorum` in deployments (deploy/)."""
    return get("QUEUE_TYPE", "classic")
