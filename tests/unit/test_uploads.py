"""Import files by reference (shared/uploads.py): only our own names, only inside the import directory."""

import io
import os
import stat

import pytest

from shared import uploads
from shared.errors import PayloadTooLarge, ValidationError


@pytest.fixture(autouse=True)
def import_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("IMPORT_DIR", str(tmp_path / "imports"))
    return tmp_path / "imports"


def test_an_upload_is_private_and_named_unguessably(import_dir):
    reference, handle = uploads.create()
    with handle:
        handle.write(b"citizen_id\n")
    assert uploads.REFERENCE.match(reference)
    assert stat.S_IMODE(os.stat(import_dir / reference).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(import_dir).st_mode) == 0o700
    assert uploads.read(reference) == b"citizen_id\n"
    uploads.discard(reference)
    assert os.listdir(import_dir) == []


@pytest.mark.parametrize(
    "reference",
    [
        "../members.db",
        "/etc/passwd",
        "..",
        "",
        None,
        42,
        "a" * 42 + "/",
        "a" * 42 + ".",
        "a" * 44,
        "%2e%2e%2fmembers.db",
    ],
)
def test_a_reference_that_is_not_one_of_ours_is_refused(reference):
    with pytest.raises(ValidationError):
        uploads.path_of(reference)


def test_a_link_planted_in_the_import_directory_is_not_followed(import_dir, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"not for members")
    reference = "L" * 43
    uploads.import_dir()
    os.symlink(secret, import_dir / reference)
    with pytest.raises(ValidationError):
        uploads.read(reference)


def test_a_file_over_the_limit_is_refused(import_dir):
    reference, handle = uploads.create()
    with handle:
        handle.write(b"x" * 11)
    with pytest.raises(ValidationError):
        uploads.read(reference, limit=10)


def test_uploads_abandoned_by_a_crash_are_swept_and_fresh_ones_kept(import_dir):
    old, handle = uploads.create()
    handle.close()
    fresh, handle = uploads.create()
    handle.close()
    hour_ago = os.stat(import_dir / old).st_mtime - uploads.ABANDONED_AFTER - 1
    os.utime(import_dir / old, (hour_ago, hour_ago))
    uploads.sweep()
    assert os.listdir(import_dir) == [fresh]


def import_request(data, **kwargs):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    return Request(EnvironBuilder(method="POST", data=data, **kwargs).get_environ())


@pytest.mark.parametrize(
    "request_of",
    [
        lambda body: import_request(body, content_type="text/csv"),
        lambda body: import_request({"file": (io.BytesIO(body), "danh sách.csv")}),
    ],
    ids=["body", "multipart"],
)
def test_an_import_upload_is_streamed_into_the_import_directory(request_of, import_dir):
    body = b"citizen_id,full_name\n" + b"001000000001,Nguyen Van A\n" * 5000
    reference, _ = uploads.receive(request_of(body), "too large")
    assert uploads.read(reference) == body
    assert os.listdir(import_dir) == [reference]


@pytest.mark.parametrize(
    ("request_of", "error"),
    [
        (lambda: import_request(b"x" * 1001, content_type="text/csv"), PayloadTooLarge),
        (lambda: import_request({"file": (io.BytesIO(b"x" * 1001), "a.csv")}), PayloadTooLarge),
        (lambda: import_request({"other": (io.BytesIO(b"x"), "a.csv")}), ValidationError),
        (lambda: import_request(b"--x\r\n", content_type="multipart/form-data"), ValidationError),  # no boundary
        (lambda: import_request(b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"), ValidationError),
    ],
    ids=["body-too-large", "file-too-large", "no-file", "no-boundary", "truncated"],
)
def test_a_refused_import_upload_leaves_nothing(request_of, error, import_dir):
    with pytest.raises(error):
        uploads.receive(request_of(), "too large", limit=1000)
    assert os.listdir(import_dir) == []
