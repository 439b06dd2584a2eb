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

from shared import config
from shared.errors import ValidationError

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
