"""`python -m bench.portal` (part of `make bench`): the web portal's first visit, in compressed bytes over the wire,
against its 150 KB budget, and Lighthouse 12 (mobile: a mid-range phone on slow 4G, simulated) on Debian's
Chromium: performance and accessibility scores, first contentful paint, time to interactive."""

import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from tests.support import node_packages
from tests.support.suite import throwaway_suite

BUDGET = 150 * 1024
LIGHTHOUSE = Path(__file__).resolve().parent / "lighthouse"
REFERENCE = re.compile(r"""(?:href|src)="(/[^"]+)"|from "(/assets/[^"]+)"|import "(/assets/[^"]+)\"""")


def wire_bytes(url):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = answer.read()
        text = gzip.decompress(body) if answer.headers.get("Content-Encoding") == "gzip" else body
    return len(body), text.decode("utf-8", "replace")


def first_visit(origin):
    """What a first visit downloads (the page, its styles, scripts and the modules they import), compressed."""
    seen, pending, sizes = set(), ["/"], {}
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        size, text = wire_bytes(origin + path)
        sizes[path.split("?")[0]] = size
        if path == "/" or path.split("?")[0].endswith((".js", ".css")):
            pending += [next(filter(None, found)) for found in REFERENCE.findall(text)]
    return sizes


def lighthouse(origin):
    chromium = shutil.which("chromium")
    if not chromium:
        return {"skipped": "no Chromium (apt-get install chromium)"}
    try:
        home = node_packages.install(LIGHTHOUSE, "lighthouse")
    except BaseException as exc:  # node_packages skips (a pytest outcome) when npm cannot reach its registry
        return {"skipped": f"Lighthouse could not be installed: {exc}"}
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        subprocess.run(
            [
                "node",
                str(home / "node_modules" / "lighthouse" / "cli" / "index.js"),
                origin + "/",
                f"--chrome-path={chromium}",
                "--chrome-flags=--headless=new --no-sandbox",
                "--only-categories=performance,accessibility",
                "--output=json",
                f"--output-path={report}",
                "--quiet",
            ],
            check=True,
            timeout=300,
        )
        found = json.loads(report.read_text())
    audits = found["audits"]
    return {
        "lighthouse": found["lighthouseVersion"],
        "form_factor": found["configSettings"]["formFactor"],
        "performance": round(found["categories"]["performance"]["score"] * 100),
        "accessibility": round(found["categories"]["accessibility"]["score"] * 100),
        "first_contentful_paint_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "interactive_ms": round(audits["interactive"]["numericValue"]),
        "total_byte_weight": audits["total-byte-weight"]["numericValue"],
    }


def main():
    with throwaway_suite("sotay-bench-portal") as suite:
        origin = suite.base.removesuffix("/api/v1")
        sizes = first_visit(origin)
        total = sum(sizes.values())
        result = {"first_visit_bytes": total, "budget_bytes": BUDGET, "files": sizes, **lighthouse(origin)}
    print(json.dumps(result, indent=1))
    if total > BUDGET:
        sys.exit(f"bench: the first visit is {total} bytes, over the {BUDGET} budget")


if __name__ == "__main__":
    main()
