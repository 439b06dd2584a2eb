"""The portal in a real browser. Run apart from the other tiers, without eventlet's monkey patching (which stalls
Playwright): tests/e2e/test_portal_browser.py starts this folder's tests in a process of their own with
`--confcutdir`, against the end-to-end suite it shares, named by PORTAL_SUITE_BASE and PORTAL_SUITE_DATA_DIR."""

import itertools
import os
import secrets

import pytest

from tests.e2e import people
from tests.e2e.conftest import Running
from tests.support.browser import LARGE, Screens, axe_source, chromium_path

# the factories' numbers (citizen IDs, phones, codes) from a range the end-to-end process that shares the suite
# does not reach; tests/e2e/test_portal_browser.py gives each file's process a block of its own
people._numbers = itertools.count(int(os.environ.get("PORTAL_NUMBERS_FROM") or 500_000 + secrets.randbelow(400_000)))


@pytest.fixture(scope="session")
def running():
    if not os.environ.get("PORTAL_SUITE_BASE"):
        pytest.skip("run through tests/e2e/test_portal_browser.py, which starts the suite")
    return Running(os.environ["PORTAL_SUITE_BASE"], os.environ["PORTAL_SUITE_DATA_DIR"], os.environ["AMQP_URI"])


@pytest.fixture(scope="session")
def origin(running):
    return running.base.removesuffix("/api/v1")


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python (requirements-dev.txt)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screens():
    return Screens(axe_source())


@pytest.fixture
def new_page(browser):
    """A page in a fresh browser context (cookies, storage and service worker of its own)."""
    contexts = []

    def make(viewport=LARGE):
        context = browser.new_context(viewport=viewport, locale="vi-VN")
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
