"""A stored attachment as an HTTP answer: streamed from the blob store, resumable (Range, If-Range), revalidated
by its strong ETag (If-None-Match → 304), saved under its own name (Content-Disposition, RFC 6266 and 5987)."""

import re
from urllib.parse import quote

from werkzeug.wrappers import Response

from shared import blobs
from shared.errors import RangeNotSatisfiable
from shared.http import PRIVATE, SEND_FILE, error_response
from shared.text import fold

RANGE = re.compile(r"^bytes=[ \t]*(\d{0,19})[ \t]*-[ \t]*(\d{0,19})[ \t]*$")  # longer numbers: ignored
ATTR_CHAR = "!#$&+-.^_`|~"  # RFC 5987's attr-char besides letters and digits: left as they are


def byte_range(header, size):
    """[start, end) of a `Range` header for a body of `size` bytes; None to send it whole (no header, one this
    server does not take: several ranges, another unit, a malformed one); RangeNotSatisfiable past the end."""
    match = RANGE.match(header or "")
    if not match or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:  # the last `last` bytes
        if int(last) == 0:
            raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
        return max(0, size - int(last)), size
    start = int(first)
    if last and int(last) < start:
        return None  # invalid, so ignored (RFC 9110 14.2)
    if start >= size:
        raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, size if not last else min(int(last) + 1, size)


def content_disposition(filename, disposition="attachment"):
    """`attachment; filename="Nghi quyet.pdf"; filename*=UTF-8''Ngh%E1%BB%8B%20quy%E1%BA%BFt.pdf`: the ASCII
    name for old clients, the real one for every current browser."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in fold(filename))
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe=ATTR_CHAR)}"


def etag(blob):
    return f'"{blob.sha256}"'


def blob_response(request, blob, filename, disposition="attachment"):
    """The blob as the answer to a GET (or HEAD) `request`: 200 whole, 206 a range, 304 when the client's copy is
    current, 416 for a range past the end. The bytes are read from the store as they are sent."""
    tag = etag(blob)
    headers = {
        "ETag": tag,
        "Accept-Ranges": "bytes",
        "Cache-Control": PRIVATE,  # members' documents: no shared cache, revalidated (cheaply, by ETag)
        "X-Content-Type-Options": "nosniff",
    }
    if request.if_none_match.contains_weak(blob.sha256):
        return Response(status=304, headers=headers)
    whole = (0, blob.size)
    if_range = request.headers.get("If-Range")
    try:
        # If-Range with a date or another tag: the copy changed (or we cannot tell), so the whole of it
        span = byte_range(request.headers.get("Range"), blob.size) if if_range in (None, tag) else None
    except RangeNotSatisfiable as exc:
        return error_response(exc)
    start, end = span or whole
    headers |= {
        "Content-Type": blob.content_type,
        "Content-Disposition": content_disposition(filename, disposition),
        "Content-Length": str(end - start),
    }
    if span:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{blob.size}"
    body = [] if request.method == "HEAD" else _body(request.environ, blobs.store().open(blob.key, start, end))
    return Response(body, status=206 if span else 200, headers=headers, direct_passthrough=True)


def _body(environ, chunks):
    """The chunks as they are, or, for a local file under a server that can (shared/http.py's SEND_FILE), its
    first chunk through the server, which sends the headers with it, and the rest by sendfile."""
    send_file = environ.get(SEND_FILE)
    if send_file is None or not isinstance(chunks, blobs.FileChunks):
        return chunks
    environ["eventlet.minimum_write_chunk_size"] = 0  # the first chunk goes out at once, before the sendfile
    return _sent(chunks, send_file)


def _sent(chunks, send_file):
    try:
        first = next(chunks, None)
        if first is not None:
            yield first  # with the headers
            chunks.send_rest(send_file)
    finally:
        chunks.close()
