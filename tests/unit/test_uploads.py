"""Import files by reference (shared/uploads.py): only our own names, only inside the import directory."""

import os
import stat

import pytest

from shared import uploads
from shared.errors import ValidationError


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
