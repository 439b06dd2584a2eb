"""A real browser for the portal's tests: Playwright for Python driving Debian's Chromium (Playwright's own browser
download is not reachable here). `.ci/run` installs Chromium with apt; a machine without it skips, saying why."""

import os
import shutil
from pathlib import Path

import pytest

from tests.support import node_packages

AXE_PROJECT = Path(__file__).resolve().parent / "axe"
SMALL, LARGE = {"width": 360, "height": 740}, {"width": 1280, "height": 800}
SERIOUS = ("serious", "critical")


def chromium_path():
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Chromium is not installed (`apt-get install chromium`; .ci/run does it)")
    return found


def output_dir():
    """Where screenshots go: TEST_OUTPUT_DIR, else var/test-output, kept after the run."""
    root = Path(os.environ.get("TEST_OUTPUT_DIR") or Path(__file__).resolve().parents[2] / "var" / "test-output")
    folder = root / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_source():
    return (node_packages.install(AXE_PROJECT, "axe-core") / "node_modules" / "axe-core" / "axe.min.js").read_text()


class Screens:
    """Every screen a test reaches: a screenshot and axe-core's serious and critical findings."""

    def __init__(self, axe):
        self.axe = axe
        self.folder = output_dir()

    def check(self, page, name):
        size = "small" if page.viewport_size["width"] <= SMALL["width"] else "large"
        page.screenshot(path=str(self.folder / f"{name}-{size}.png"), full_page=True)
        if not page.evaluate("() => 'axe' in window"):
            page.evaluate(
                self.axe + "\n;undefined"
            )  # devtools' evaluation: the page's own policy refuses inline scripts
        results = page.evaluate("async () => (await axe.run(document)).violations")
        serious = [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results
            if v["impact"] in SERIOUS
        ]
        return serious

    def both_sizes(self, page, name):
        """The screen at desktop and at phone size (the page is left at phone size): the findings at either."""
        found = []
        for size in (LARGE, SMALL):
            page.set_viewport_size(size)
            found += self.check(page, name)
        return found
