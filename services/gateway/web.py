"""The web portal's files (services/gateway/portal/), served on the API's origin: no build step, so what is in the
folder is what a browser gets. Read once at start-up; each file compressed once, named in the pages and modules that
load it with the release's hash (of every file: a module's imports change with it), so a browser keeps it a year and
a new release is a new name."""

import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from werkzeug.wrappers import Response

FOLDER = Path(__file__).resolve().parent / "portal"
# what the portal may load and run: its own origin's files only, no inline code, never framed
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), geolocation=(), microphone=()",
}
A_YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
TYPES = {".js": "text/javascript", ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml"}
# `/assets/app.js` in a page or a module: rewritten to `/assets/app.js?v=<hash>`
REFERENCE = re.compile(r"(/assets/[\w./-]+\.\w+)(?=[\"'])")
# pages and scripts a browser must revalidate on every load: the entry points of a release
ENTRY_POINTS = ("index.html", "sw.js", "manifest.webmanifest")


@dataclass(frozen=True)
class File:
    body: bytes
    zipped: bytes
    etag: str
    version: str  # the release's
    content_type: str


def _content_type(path):
    guessed = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("json") else guessed


def _file(path, body, version):
    etag = hashlib.sha256(body).hexdigest()[:16]
    return File(body, gzip.compress(body, 9, mtime=0), etag, version, _content_type(path))


@cache
def files():
    """name (relative to the folder) → File; the text files' `/assets/…` references carry the release's hash."""
    raw = {p.relative_to(FOLDER).as_posix(): p for p in sorted(FOLDER.rglob("*")) if p.is_file()}
    release = hashlib.sha256()
    for name, path in raw.items():
        release.update(name.encode() + b"\0" + path.read_bytes())
    version = release.hexdigest()[:16]
    served = {}
    for name, path in raw.items():
        body = path.read_bytes()
        if path.suffix in (".html", ".js", ".css", ".webmanifest"):
            body = REFERENCE.sub(rf"\1?v={version}", body.decode("utf-8")).encode("utf-8")
        served[name] = _file(path, body, version)
    return served


def serve(request, name):
    """One of the portal's files (`index.html`, `assets/app.js`), or None. A hashed name is kept a year;
    anything else revalidates by ETag."""
    found = files().get(name)
    if found is None:
        return None
    versioned = request.args.get("v") == found.version and name not in ENTRY_POINTS
    headers = {**HEADERS, "ETag": f'"{found.etag}"', "Vary": "Accept-Encoding"}
    headers["Cache-Control"] = A_YEAR if versioned else REVALIDATE
    if request.if_none_match.contains(found.etag):
        return Response(status=304, headers=headers)
    body = found.body
    if "gzip" in request.headers.get("Accept-Encoding", "") and len(found.zipped) < len(body):
        body, headers["Content-Encoding"] = found.zipped, "gzip"
    return Response(body, headers=headers, content_type=found.content_type)
