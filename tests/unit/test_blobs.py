"""Attachments in the blob store (shared/blobs.py): the type comes from the bytes, the limit holds to the byte,
nothing refused stays behind, keys name nothing outside the store. Over HTTP: test_blob_http.py."""

import os
import stat
import time
import tracemalloc
from unittest import mock

import pytest

from shared import blobs, filetypes
from shared.errors import (
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationError,
)
from tests.support import samples

pytestmark = pytest.mark.usefixtures("blob_dir")
MIB = 1024 * 1024


def pieces(data, size=64 * 1024):
    return (data[i : i + size] for i in range(0, len(data), size))


def put(data, limit=50 * MIB):
    return blobs.store().put(pieces(data), limit)


def read(blob, start=0, end=None):
    return b"".join(blobs.store().open(blob.key, start, end))


@pytest.mark.parametrize(
    ("make", "content_type"),
    [
        (samples.pdf, filetypes.PDF),
        (samples.docx, filetypes.DOCX),
        (samples.xlsx, filetypes.XLSX),
        (samples.png, filetypes.PNG),
        (samples.jpeg, filetypes.JPEG),
        (samples.gif, filetypes.GIF),
        (samples.webp, filetypes.WEBP),
    ],
)
def test_each_allowed_type_is_recognised_from_its_bytes_and_kept_privately(make, content_type, blob_dir):
    data = make()
    blob = put(data)
    assert blob.content_type == content_type
    assert blob.size == len(data)
    assert blobs.KEY.match(blob.key)
    assert read(blob) == data
    path = blob_dir / blob.key[:2] / blob.key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(blob_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


@pytest.mark.parametrize(
    "data",
    [
        samples.exe(),
        samples.html(),
        samples.svg(),
        samples.archive({"notes.txt": b"not a document"}),  # a ZIP that is no Office file
        samples.archive({"[Content_Types].xml": samples.CONTENT_TYPES, "ppt/presentation.xml": b"<p/>"}),
        samples.docx(**{"word/vbaProject.bin": b"macros"}),  # a macro-enabled document: executable
        samples.docx() + b"appended after the archive",
        b"PK\x03\x04" + bytes(100),  # a ZIP's first bytes, no archive behind them
        b"%PD",
        b"\x00",
    ],
    ids=["exe", "html", "svg", "zip", "pptx", "docm", "trailing-junk", "zip-head-only", "short", "nul"],
)
def test_bytes_of_no_allowed_type_are_415_whatever_the_name_and_nothing_stays(data, blob_dir):
    with pytest.raises(UnsupportedMediaType) as refused:
        put(data)
    assert refused.value.code == "unsupported_media_type"
    assert samples.stored_files(blob_dir) == []


def test_an_office_file_with_a_comment_is_still_recognised():
    data = samples.archive({"[Content_Types].xml": samples.CONTENT_TYPES, "xl/workbook.xml": b"<w/>"}, comment=b"S")
    assert put(data).content_type == filetypes.XLSX


def test_an_empty_file_is_400_and_nothing_stays(blob_dir):
    with pytest.raises(ValidationError) as refused:
        put(b"")
    assert "file" in refused.value.details
    assert samples.stored_files(blob_dir) == []


def test_a_disguised_executable_is_refused_from_its_first_bytes_without_reading_the_rest():
    read_chunks = []

    def endless():
        while True:
            read_chunks.append(1)
            yield samples.exe()

    with pytest.raises(UnsupportedMediaType):
        blobs.store().put(endless(), 50 * MIB)
    assert len(read_chunks) == 1


def test_exactly_the_limit_passes_one_byte_more_is_413_and_memory_stays_flat(blob_dir):
    data = samples.pdf(50 * MIB)
    tracemalloc.start()
    try:
        blob = blobs.store().put(pieces(data), 50 * MIB)
        digest = blobs.hashlib.sha256()
        for chunk in blobs.store().open(blob.key):
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert blob.size == 50 * MIB
    assert digest.hexdigest() == blob.sha256 == blobs.hashlib.sha256(data).hexdigest()
    assert peak < 2 * MIB  # chunks of 64 KiB: never the file in memory
    with pytest.raises(PayloadTooLarge):
        put(data + b"0")
    assert samples.stored_files(blob_dir) == [blob.key]


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "/etc/passwd", "..", "", None, 42, "a" * 42 + "\x00", "a" * 42 + "/", "a" * 44]
)
def test_a_key_that_is_not_one_of_ours_names_nothing(key):
    with pytest.raises(NotFound):
        blobs.store().open(key)
    with pytest.raises(NotFound):
        blobs.store().delete(key)


def test_links_planted_in_the_store_are_not_followed(blob_dir, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"%PDF- not for members")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ("Lk" + "x" * 41)).write_bytes(b"%PDF- not for members either")
    blob_dir.mkdir(mode=0o700)
    (blob_dir / "Fi").mkdir()
    os.symlink(secret, blob_dir / "Fi" / ("Fi" + "x" * 41))  # a file link
    os.symlink(elsewhere, blob_dir / "Lk")  # a folder link
    for key in ("Fi" + "x" * 41, "Lk" + "x" * 41):
        with pytest.raises(NotFound):
            blobs.store().open(key)


def test_delete_is_idempotent_and_a_deleted_blob_is_404(blob_dir):
    blob = put(samples.png())
    blobs.store().delete(blob.key)
    blobs.store().delete(blob.key)
    with pytest.raises(NotFound):
        blobs.store().open(blob.key)
    assert samples.stored_files(blob_dir) == []


def test_a_failure_half_way_leaves_nothing_and_a_crash_s_partial_is_swept_by_a_later_upload(blob_dir):
    def dying():
        yield samples.pdf()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        blobs.store().put(dying(), MIB)
    assert samples.stored_files(blob_dir) == []
    abandoned, fresh = (blob_dir / "ab" / f"ab{letter * 41}.partial" for letter in "cd")
    abandoned.parent.mkdir(exist_ok=True)
    for partial in (abandoned, fresh):
        partial.write_bytes(b"%PDF- half of a member's document")
    hour_ago = time.time() - blobs.ABANDONED_AFTER - 1
    os.utime(abandoned, (hour_ago, hour_ago))
    with mock.patch.object(blobs, "new_key", return_value="ab" + "e" * 41):
        blob = put(samples.png())
    assert samples.stored_files(blob_dir) == sorted([blob.key, fresh.name])
