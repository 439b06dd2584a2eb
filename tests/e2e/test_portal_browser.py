"""The portal in Chromium (tests/browser/), against this session's suite. Playwright cannot run under eventlet's
monkey patching, so the browser tests run in a process of their own; their report is this test's."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.browser import chromium_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_the_portal_in_a_real_browser(running):
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright for Python is not installed (requirements-dev.txt: `make test` installs it)")
    chromium_path()
    env = {
        **os.environ,
        "PORTAL_SUITE_BASE": running.base,
        "PORTAL_SUITE_DATA_DIR": running.data_dir,
        "AMQP_URI": running.amqp_uri,
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-o",
        "addopts=-ra -q -p no:cacheprovider",
        "-p",
        "no:pytest_nameko",
        "--confcutdir",
        str(ROOT / "tests" / "browser"),
        str(ROOT / "tests" / "browser"),
    ]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=880)
    assert finished.returncode == 0, finished.stdout[-20000:] + finished.stderr[-5000:]
    if "skipped" in finished.stdout:  # no Chromium, or npm cannot reach its registry for axe-core: say which
        pytest.skip("the browser tests skipped:\n" + finished.stdout[-3000:])
    assert " passed" in finished.stdout, finished.stdout[-5000:]
