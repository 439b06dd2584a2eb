"""The blob store: attachments' bytes, kept apart from every database and never carried over the broker.

    blob = blobs.store().put(chunks, limit=50 * 1024 * 1024)   # streamed in; 413, 415 or 400 leave nothing behind
    for chunk in blobs.store().open(blob.key, start, end): ...  # streamed out, ~64 KiB at a time
    blobs.store().delete(blob.key)                              # idempotent

Files under `BLOB_DIR` (default `$DATA_DIR/blobs`; shared storage when the gateway and content run on different
hosts), or an S3-compatible bucket when `BLOB_S3_BUCKET` is set (shared/s3.py). A key is random, never derived from
anything a user sent, so it names nothing outside the store.
"""

import functools
import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from shared import config, filetypes
from shared.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationError

CHUNK = 64 * 1024
ABANDONED_AFTER = 3600  # seconds: a `.partial` untouched this long lost the process that wrote it
KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): no separators, no dots
UNSUPPORTED = (
    "Chỉ nhận tệp PDF, DOCX, XLSX hoặc ảnh PNG, JPEG, GIF, WebP (xét theo nội dung tệp, không theo tên). / "
    "Only PDF, DOCX, XLSX files or PNG, JPEG, GIF, WebP images are accepted (judged by content, not by name)."
)
EMPTY = "Tệp rỗng. / The file is empty."


@dataclass(frozen=True)
class Blob:
    """What a service records about a stored attachment."""

    key: str  # opaque, unguessable, [A-Za-z0-9_-]
    size: int
    sha256: str  # hex; the ETag is made from it
    content_type: str  # sniffed from the bytes (shared/filetypes.py)


def new_key():
    return secrets.token_urlsafe(32)


def checked(key):
    """The key itself when it can be one of ours; anything else is a 404 (it names no blob)."""
    if not isinstance(key, str) or not KEY.match(key):
        raise NotFound()
    return key


def too_large(limit):
    mib = limit / (1024 * 1024)
    size = f"{mib:g} MiB" if mib >= 1 else f"{limit} bytes"
    return PayloadTooLarge(message=f"Tệp vượt quá {size}. / The file is over {size}.")


class Intake:
    """One upload's bytes as they arrive: counted against the limit, hashed, their type watched. Iterate it to
    pass the bytes on; then `blob(key)` gives the verdict (or raises 415/400)."""

    def __init__(self, chunks, limit):
        self.chunks, self.limit = chunks, limit
        self.size = 0
        self.digest = hashlib.sha256()
        self.sniffer = filetypes.Sniffer()

    def __iter__(self):
        for chunk in self.chunks:
            if not chunk:
                continue
            self.size += len(chunk)
            if self.size > self.limit:
                raise too_large(self.limit)
            if not self.sniffer.feed(chunk):
                raise UnsupportedMediaType(message=UNSUPPORTED)
            self.digest.update(chunk)
            yield chunk

    def blob(self, key):
        if self.size == 0:
            raise ValidationError(details={"file": [EMPTY]})
        content_type = self.sniffer.verdict()
        if content_type is None:
            raise UnsupportedMediaType(message=UNSUPPORTED)
        return Blob(key=key, size=self.size, sha256=self.digest.hexdigest(), content_type=content_type)


class BlobStore:
    def put(self, chunks, limit):
        """Store the bytes of `chunks` (an iterable of bytes) as a new blob. Past `limit` bytes 413, bytes of no
        allowed type 415, no bytes 400; on any failure nothing is left behind."""
        raise NotImplementedError

    def open(self, key, start=0, end=None):
        """The blob's bytes [start, end) as an iterator of chunks with `close()`; 404 when there is none. Opened
        at once (a missing blob fails here, before an answer starts), read as it is iterated."""
        raise NotImplementedError

    def delete(self, key):
        raise NotImplementedError


class FileChunks:
    """Reads [start, end) of an open file descriptor in CHUNKs; closes it when done or closed early."""

    def __init__(self, fd, start, end):
        self.fd, self.position, self.end = fd, start, end

    def __iter__(self):
        return self

    def __next__(self):
        if self.fd is None or self.position >= self.end:
            self.close()
            raise StopIteration
        chunk = os.pread(self.fd, min(CHUNK, self.end - self.position), self.position)
        if not chunk:  # the file shrank under us: end here, the length already sent tells the client
            self.close()
            raise StopIteration
        self.position += len(chunk)
        return chunk

    def send_rest(self, send_file):
        """What is left of the range through `send_file(fd, offset, count)`, the kernel copying it to the client
        (a download: shared/downloads.py, shared/http.py); the iteration ends after it."""
        if self.fd is not None and self.position < self.end:
            self.position += send_file(self.fd, self.position, self.end - self.position)
        self.position = self.end  # what a shrunken file lacks, the length already sent tells the client

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class FileStore(BlobStore):
    """Blobs as files: BLOB_DIR/<first two characters of the key>/<key>, directories 0700 and files 0600. A blob
    is written as `<key>.partial` and renamed once whole and accepted, so a crash leaves only names that are no
    key (never served), removed after an hour by the next upload into the same folder."""

    def __init__(self, directory=None):
        path = Path(directory or config.get("BLOB_DIR") or config.data_dir() / "blobs")
        self.directory = path if path.is_absolute() else Path.cwd() / path

    def _folder(self, key, create=False):
        """A descriptor of the key's folder, opened without following links (a planted link is refused)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        root = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if create:
                try:
                    os.mkdir(key[:2], 0o700, dir_fd=root)
                except FileExistsError:
                    pass
            return os.open(key[:2], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root)
        finally:
            os.close(root)

    def put(self, chunks, limit):
        key = new_key()
        partial = f"{key}.partial"
        folder = self._folder(key, create=True)
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
            try:
                intake = Intake(chunks, limit)
                for chunk in intake:
                    _write(fd, chunk)
                blob = intake.blob(key)
                os.fsync(fd)
                os.rename(partial, key, src_dir_fd=folder, dst_dir_fd=folder)
                return blob
            except BaseException:
                os.unlink(partial, dir_fd=folder)
                raise
            finally:
                os.close(fd)
        finally:
            _sweep(folder, time.time())
            os.close(folder)

    def open(self, key, start=0, end=None):
        checked(key)
        try:
            folder = self._folder(key)
        except OSError:
            raise NotFound() from None
        try:
            fd = os.open(key, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=folder)
        except OSError:
            raise NotFound() from None
        finally:
            os.close(folder)
        size = os.fstat(fd).st_size
        return FileChunks(fd, start, size if end is None else min(end, size))

    def delete(self, key):
        checked(key)
        try:
            folder = self._folder(key)
        except OSError:
            return
        try:
            os.unlink(key, dir_fd=folder)
        except FileNotFoundError:
            pass
        finally:
            os.close(folder)


def _sweep(folder, now):
    """Remove from a folder what a crash left half written: personal data must not linger."""
    for name in os.listdir(folder):
        try:
            if name.endswith(".partial") and now - os.lstat(name, dir_fd=folder).st_mtime > ABANDONED_AFTER:
                os.unlink(name, dir_fd=folder)
        except OSError:
            pass


def _write(fd, chunk):
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]


S3_SETTINGS = ("BLOB_S3_BUCKET", "BLOB_S3_ACCESS_KEY", "BLOB_S3_SECRET_KEY", "BLOB_S3_REGION", "BLOB_S3_ENDPOINT")


def store():
    """The configured store: S3 when BLOB_S3_BUCKET is set, else files under BLOB_DIR."""
    settings = tuple(config.get(name) for name in S3_SETTINGS)
    return _bucket(*settings) if settings[0] else FileStore()


@functools.cache
def _bucket(bucket, access_key, secret_key, region, endpoint):
    """One S3 store per configuration, so its connections are kept and reused."""
    from shared.s3 import S3, S3Store  # only deployments that use S3 load its client

    return S3Store(S3(bucket, access_key or "", secret_key or "", region or "us-east-1", endpoint))
