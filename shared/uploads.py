"""Uploads, streamed as they arrive (`incoming`), never a broker message with the file:
- imports, passed by reference: the gateway streams an upload into the import directory (`receive`), members
  reads it from there and deletes it;
- attachments (`receive_blob`): streamed into the blob store (shared/blobs.py), their type sniffed on the way.

`IMPORT_DIR` (default `$DATA_DIR/imports`) must be storage both reach: shared storage when the
gateway and members run on different hosts. The reference is the file's unguessable name.
"""

import itertools
import os
import re
import secrets
import time
import unicodedata
from pathlib import Path

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, File, MultipartDecoder, NeedData

from shared import blobs, config, filetypes
from shared.errors import PayloadTooLarge, ValidationError

MAX_IMPORT_BYTES = 32 * 1024 * 1024
ABANDONED_AFTER = 3600  # seconds: an upload neither imported nor refused by then lost its process
REFERENCE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): no separators, no dots


def import_dir():
    path = Path(config.get("IMPORT_DIR") or config.data_dir() / "imports")
    if not path.is_absolute():
        path = Path.cwd() / path
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def create():
    """(reference, a binary file open for writing), mode 0600, never an existing file or link."""
    reference = secrets.token_urlsafe(32)
    fd = os.open(import_dir() / reference, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    return reference, os.fdopen(fd, "wb")


def path_of(reference):
    """The file a reference names, or a 400: only our own names, only inside the import directory."""
    if not isinstance(reference, str) or not REFERENCE.match(reference):
        raise ValidationError(details={"file": ["Tham chiếu tệp không hợp lệ. / Not a valid file reference."]})
    return import_dir() / reference


def read(reference, limit=MAX_IMPORT_BYTES):
    """The file's bytes (a regular file, not a link, at most `limit`), or a 400."""
    path = path_of(reference)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        raise ValidationError(
            details={"file": ["Không tìm thấy tệp đã tải lên. / The uploaded file is gone."]}
        ) from None
    with os.fdopen(fd, "rb") as handle:
        content = handle.read(limit + 1)
    if not content or len(content) > limit:
        raise ValidationError(details={"file": ["Tệp rỗng hoặc quá 32 MiB. / Empty, or over 32 MiB."]})
    return content


def discard(reference):
    try:
        os.unlink(path_of(reference))
    except (OSError, ValidationError):
        pass


def sweep(now=None):
    """Delete uploads abandoned by a crash (untouched for ABANDONED_AFTER): personal data must not linger."""
    now = time.time() if now is None else now
    directory = import_dir()
    for name in os.listdir(directory):
        path = directory / name
        try:
            if REFERENCE.match(name) and now - path.lstat().st_mtime > ABANDONED_AFTER:
                path.unlink()
        except OSError:
            pass


CHUNK = 64 * 1024
MALFORMED = "Dữ liệu multipart hỏng. / A malformed multipart body."


def incoming(request, limit, too_large, field="file", name="upload"):
    """The upload in a werkzeug request as it arrives, never whole in memory: (filename, iterator of bytes). The
    body itself (named `name`), or the multipart part `field`; a body past `limit` bytes raises `too_large`, a
    malformed one a 400, a multipart body without `field` a 400."""
    request.max_content_length = limit
    try:
        if request.mimetype != "multipart/form-data":
            return name, _guarded(_body(request.stream, limit), too_large)
        boundary = request.mimetype_params.get("boundary", "").encode("latin-1", "replace")
        parts = _guarded(_parts(_body(request.stream, limit), boundary), too_large)
        for event in parts:
            if isinstance(event, File) and event.name == field:
                return event.filename, _data(parts)
    except RequestEntityTooLarge:
        raise too_large from None
    raise ValidationError(details={field: ["required"]})


def _body(stream, limit):
    received = 0
    while chunk := stream.read(CHUNK):
        received += len(chunk)
        if received > limit:
            raise RequestEntityTooLarge()
        yield chunk


def _parts(body, boundary):
    """The multipart events of a body, decoded as its chunks arrive (headers of a part ≤ ~64 KiB)."""
    if not boundary:
        raise ValueError("no boundary")
    decoder = MultipartDecoder(boundary, max_form_memory_size=2 * CHUNK, max_parts=16)
    for chunk in itertools.chain(body, [None]):  # None: the decoder's "no more data"
        decoder.receive_data(chunk)
        while not isinstance(event := decoder.next_event(), NeedData):
            if isinstance(event, Epilogue):
                return
            yield event


def _data(parts):
    """The bytes of the part whose File event was just seen."""
    for event in parts:
        if isinstance(event, Data):
            if event.data:
                yield event.data
            if not event.more_data:
                return


def _guarded(chunks, too_large):
    """Our errors from a body as it is read: `too_large` past the limit, 400 when malformed."""
    try:
        yield from chunks
    except RequestEntityTooLarge:
        raise too_large from None
    except (HTTPException, ValueError):
        raise ValidationError(details={"file": [MALFORMED]}) from None


def receive(request, too_large, limit=MAX_IMPORT_BYTES, name="upload.csv"):
    """A werkzeug request's upload streamed into the import directory (never whole in memory, the limit counted
    as it arrives): (reference, filename). The body itself, or the multipart field `file`; past `limit`, our
    413 with `too_large` (what to do instead)."""
    reference, handle = create()
    try:
        with handle:
            filename, chunks = incoming(request, limit, PayloadTooLarge(message=too_large), name=name)
            for chunk in chunks:
                handle.write(chunk)
    except BaseException:
        discard(reference)
        raise
    return reference, filename


MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
ENVELOPE = 64 * 1024  # a multipart body's boundaries and part headers around the file itself
UNSAFE_IN_NAMES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, bidi overrides (`gpj.exe`), unassigned
MAX_NAME = 255
DEFAULT_NAME = "tep-dinh-kem"  # "attachment"


def receive_blob(request, limit=MAX_ATTACHMENT_BYTES, field="file"):
    """An attachment streamed from a werkzeug request into the blob store: (Blob, a safe display name). The
    multipart part `field`, or the body itself (its name from a `Content-Disposition` request header); 413 past
    `limit`, 415 when its bytes are none of the allowed types, and then nothing is stored."""
    _, options = parse_options_header(request.headers.get("Content-Disposition"))
    filename, chunks = incoming(request, limit + ENVELOPE, blobs.too_large(limit), field, options.get("filename"))
    blob = blobs.store().put(chunks, limit)
    return blob, display_name(filename, blob.content_type)


def display_name(filename, content_type):
    """What a file is called when shown and downloaded: the base name only, without controls or invisible
    characters, at most 255 characters, ending with an extension of its real (sniffed) type."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in UNSAFE_IN_NAMES)
    name = " ".join(name.split()).strip(".")
    extensions = filetypes.EXTENSIONS[content_type]
    stem, dot, extension = name.rpartition(".")
    if not (dot and f".{extension.lower()}" in extensions and stem):
        stem, extension = name, extensions[0][1:]
    stem = stem[: MAX_NAME - len(extension) - 1].rstrip(". ") or DEFAULT_NAME
    return f"{stem}.{extension}"
