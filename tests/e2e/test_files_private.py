"""What the suite keeps on disk (databases, keys) is readable by its own user only."""

import os
import stat

import pytest

from shared import registry

pytestmark = pytest.mark.e2e

HARNESS_FILES = {"suite.log"}  # written by the test harness, not by the suite


def test_databases_and_keys_are_private_to_the_suites_user(running):
    seen, exposed = set(), []
    for directory, _, files in os.walk(running.data_dir):
        for path in [directory] + [os.path.join(directory, name) for name in files if name not in HARNESS_FILES]:
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            seen.add(os.path.relpath(path, running.data_dir))
            if mode & 0o077:
                exposed.append(f"{os.path.relpath(path, running.data_dir)} {oct(mode)}")
    assert {service.sqlite_file for service in registry.with_database()} <= seen
    assert any(name.startswith("identity-keys/") for name in seen)
    assert exposed == []
