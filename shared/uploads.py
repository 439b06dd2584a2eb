"""Import files passed by reference: the gateway streams an upload into the import directory,
members reads it from there and deletes it. Never a broker message with the file.

`IMPORT_DIR` (default `$DATA_DIR/imports`) must be storage both reach: shared storage when the
gateway and members run on different hosts. The reference is the file's unguessable name.
"""

import os
import re
import secrets
import time
from pathlib import Path

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from shared import config
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


def receive(request, too_large, limit=MAX_IMPORT_BYTES, name="upload.csv"):
    """A werkzeug request's upload streamed into the import directory (never whole in memory, the limit counted
    as it arrives): (reference, filename). The body itself, or the multipart field `file`; past `limit`, our
    413 with `too_large` (what to do instead)."""
    created = []

    def new_file(*_, **__):
        reference, handle = create()
        created.append((reference, handle))
        return handle

    try:
        if request.mimetype == "multipart/form-data":
            _, _, files = parse_form_data(
                request.environ,
                stream_factory=new_file,
                silent=False,
                max_content_length=limit,
                max_form_memory_size=CHUNK,
                max_form_parts=16,
            )
            upload = files.get("file")
            kept = next((ref for ref, handle in created if upload is not None and handle is upload.stream), None)
            if kept is None:
                raise ValidationError(details={"file": ["required"]})
            filename = upload.filename or ""
        else:
            handle = new_file()
            kept = created[-1][0]
            filename, received = name, 0
            request.max_content_length = limit
            while chunk := request.stream.read(CHUNK):
                received += len(chunk)
                if received > limit:
                    raise RequestEntityTooLarge()
                handle.write(chunk)
    except RequestEntityTooLarge:
        _discard(created)
        raise PayloadTooLarge(message=too_large) from None
    except (HTTPException, ValueError):  # a malformed multipart body
        _discard(created)
        raise ValidationError(details={"file": ["Dữ liệu multipart hỏng. / A malformed multipart body."]}) from None
    except BaseException:
        _discard(created)
        raise
    for reference, handle in created:
        handle.close()
        if reference != kept:
            discard(reference)
    return kept, filename


def _discard(created):
    for reference, handle in created:
        handle.close()
        discard(reference)
