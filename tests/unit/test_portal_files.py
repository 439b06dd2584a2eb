"""The portal's files as the gateway serves them (services/gateway/web.py): every reference resolves, carries the
release's hash, and the service worker keeps every file a first visit needs."""

import re

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway import web

REFERENCE = re.compile(r"/assets/[\w./-]+\.\w+(?:\?v=\w+)?")


def request(path="/", **headers):
    return Request(EnvironBuilder(path=path, headers=headers).get_environ())


def text(name):
    return web.files()[name].body.decode("utf-8")


def test_every_asset_a_page_or_module_names_exists_and_carries_the_release_hash():
    version = web.files()["index.html"].version
    for name, found in web.files().items():
        if not name.endswith((".html", ".js", ".css", ".webmanifest")):
            continue
        for reference in REFERENCE.findall(found.body.decode("utf-8")):
            path, _, tag = reference.partition("?v=")
            assert path.removeprefix("/") in web.files(), f"{name} names {path}, which is not there"
            assert tag == version, f"{name}: {reference} is not versioned"


def test_the_service_worker_keeps_every_module_and_style_of_the_shell():
    kept = set(REFERENCE.findall(text("sw.js")))
    needed = {
        f"/{name}?v={found.version}"
        for name, found in web.files().items()
        if name.startswith("assets/") and name.endswith((".js", ".css"))
    }
    assert needed <= kept, f"sw.js misses {sorted(needed - kept)}"


def test_a_versioned_asset_is_kept_a_year_and_anything_else_revalidates():
    found = web.files()["assets/app.js"]
    plain = web.serve(request("/assets/app.js"), "assets/app.js")
    assert plain.headers["Cache-Control"] == "no-cache"  # no ?v=: revalidate
    built = Request(EnvironBuilder(path="/assets/app.js", query_string=f"v={found.version}").get_environ())
    assert "immutable" in web.serve(built, "assets/app.js").headers["Cache-Control"]
    assert web.serve(request(), "index.html").headers["Cache-Control"] == "no-cache"
    stale = Request(
        EnvironBuilder(path="/", headers={"If-None-Match": f'"{web.files()["index.html"].etag}"'}).get_environ()
    )
    assert web.serve(stale, "index.html").status_code == 304


def test_the_portal_is_sent_compressed_to_a_browser_that_accepts_it_and_under_a_strict_policy():
    answer = web.serve(request("/", **{"Accept-Encoding": "gzip, br"}), "index.html")
    assert answer.headers["Content-Encoding"] == "gzip"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert web.serve(request("/nothing"), "nothing.js") is None


def test_no_inline_script_or_style_that_the_policy_would_refuse():
    page = text("index.html")
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert not re.search(r"\son\w+=", page)


def test_everything_the_portal_holds_fits_the_first_visits_budget_compressed():
    """An upper bound of a first visit (issue 13: 150 KB, HTML, CSS and JS); bench/portal.py measures the real one."""
    sent = sum(min(len(found.zipped), len(found.body)) for found in web.files().values())
    assert sent <= 150 * 1024, f"{sent} bytes"
