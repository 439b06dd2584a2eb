"""The portal in Chromium (tests/browser/), against this session's suite. Playwright cannot run under eventlet's
monkey patching, so the browser tests run in processes of their own (several at once); their reports are this
test's."""

import importlib.util
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.browser import chromium_path

ROOT = Path(__file__).resolve().parents[2]


# the test files of tests/browser/ in processes (and Chromiums) of their own, all at once: the tests mostly wait on
# the suite and the page, so the files overlap; a process's factories draw numbers from a block of its own. The files
# that sign in as the demo member share one process: test_portal.py signs out the demo member's other sessions and
# then expects no other to appear.
NUMBERS_PER_PROCESS = 20_000  # a file makes a few hundred people and organisations at most; phones keep 6 digits


def groups():
    """{name: [test files]}: the demo member's files together, every other file on its own."""
    files = sorted((ROOT / "tests" / "browser").glob("test_*.py"))
    demo = [path for path in files if "DEMO_MEMBER" in path.read_text()]
    return {**({"demo-member": demo} if demo else {}), **{path.stem: [path] for path in files if path not in demo}}


def launch(name, paths, env, folder):
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
        *map(str, paths),
    ]
    output = open(folder / f"{name}.txt", "w+")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    return process, output


def report(process, output, deadline):
    """The file's pytest output once it has finished (killed at the deadline)."""
    try:
        process.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    output.seek(0)
    text = output.read()
    output.close()
    return text


@pytest.mark.timeout(900)
def test_the_portal_in_a_real_browser(running, tmp_path):
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright for Python is not installed (requirements-dev.txt: `make test` installs it)")
    chromium_path()
    env = {
        **os.environ,
        "PORTAL_SUITE_BASE": running.base,
        "PORTAL_SUITE_DATA_DIR": running.data_dir,
        "AMQP_URI": running.amqp_uri,
    }
    first = 500_000 + secrets.randbelow(NUMBERS_PER_PROCESS)
    started = {
        name: launch(name, paths, {**env, "PORTAL_NUMBERS_FROM": str(first + n * NUMBERS_PER_PROCESS)}, tmp_path)
        for n, (name, paths) in enumerate(groups().items())
    }
    deadline = time.monotonic() + 880
    finished = {name: (process, report(process, output, deadline)) for name, (process, output) in started.items()}
    for name, (process, stdout) in finished.items():
        assert process.returncode == 0, f"{name}:\n{stdout[-20000:]}"
    skipped = [f"{name}:\n{stdout[-3000:]}" for name, (_, stdout) in finished.items() if "skipped" in stdout]
    if skipped:  # no Chromium, or npm cannot reach its registry for axe-core: say which
        pytest.skip("the browser tests skipped:\n" + "\n".join(skipped))
    for name, (_, stdout) in finished.items():
        assert " passed" in stdout, f"{name}:\n{stdout[-5000:]}"
