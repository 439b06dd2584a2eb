"""A certified OpenID provider (the Node `oidc-provider` package, pinned in certified_op/) started by a test,
and a browser that signs in at it by following redirects and submitting its forms.

The package is installed once (tests/support/node_packages.py); a test is skipped only when npm cannot reach its
registry.
"""

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.support.node_packages import install
from tests.support.waiting import free_port, stop_process, wait_for

PROJECT = Path(__file__).resolve().parent / "certified_op"


@contextmanager
def certified_provider(client, log_dir, client_auth_methods=None):
    """The provider at http://127.0.0.1:<free port> with one registered `client` (oidc-provider client metadata),
    announcing only `client_auth_methods` when given; yields its issuer."""
    home = install(PROJECT, "oidc-provider")
    server = home / "server.mjs"
    if not server.exists() or server.read_bytes() != (PROJECT / "server.mjs").read_bytes():
        temporary = home / f"server.{os.getpid()}.tmp"
        shutil.copy(PROJECT / "server.mjs", temporary)
        os.replace(temporary, server)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    log_path = Path(log_dir) / f"oidc-provider-{port}.log"
    log = open(log_path, "w")
    settings = {"port": port, "client": client, "clientAuthMethods": client_auth_methods}
    process = subprocess.Popen(
        ["node", str(server), json.dumps(settings)], cwd=home, stdout=log, stderr=subprocess.STDOUT
    )

    def up():
        if process.poll() is not None:
            raise AssertionError("oidc-provider exited:\n" + log_path.read_text())
        try:
            return requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=30, interval=0.1, message="oidc-provider's discovery document")
        yield issuer
    finally:
        stop_process(process)
        log.close()


class _Form(HTMLParser):
    """The first form of a page: its action, method and the values its inputs carry."""

    def __init__(self):
        super().__init__()
        self.action = self.method = None
        self.fields = {}
        self._inside = self._done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self._done:
            self.action, self.method, self._inside = attrs.get("action", ""), attrs.get("method", "get"), True
        elif tag == "input" and self._inside and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._inside:
            self._inside, self._done = False, True


def browse(browser, url, login, stop_at=None, max_steps=20):
    """What a browser does from `url`: follow redirects, fill the provider's forms (the login form's `login`
    with `login`, any password) and submit them. Returns the first URL under `stop_at`, or the last response
    that carries no form."""
    method, data = "GET", None
    for _ in range(max_steps):
        if stop_at and url.startswith(stop_at):
            return url
        response = browser.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            method, data, url = "GET", None, urljoin(response.url, response.headers["Location"])
            continue
        form = _Form()
        if response.headers.get("Content-Type", "").startswith("text/html"):
            form.feed(response.text)
        if form.action is None:
            return response
        fields = dict(form.fields)
        if "login" in fields:
            fields.update(login=login, password="any")
        method, data, url = form.method.upper(), fields, urljoin(response.url, form.action)
    raise AssertionError(f"no end to the provider's pages after {max_steps} steps, at {url}")
