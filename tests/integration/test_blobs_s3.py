"""Attachments in an S3-compatible bucket (shared/s3.py) against a real S3 API server started here: the same
put / open / Range / delete behaviour as the file store; a refused or failed upload leaves no object and no open
multipart upload; 50 MiB go in and out with memory flat."""

import hashlib
import io
import secrets
import tracemalloc

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from shared import blobs, filetypes, uploads
from shared.downloads import blob_response
from shared.errors import NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType
from shared.s3 import PART, S3, S3Store
from tests.support import s3_server, samples

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(endpoint, access key, secret key) of an S3 API server that checks every signature."""
    with s3_server.running(tmp_path_factory.mktemp("s3") / "server.log") as endpoint:
        yield endpoint, *s3_server.require_signatures(endpoint)


@pytest.fixture
def bucket(server, monkeypatch):
    """A bucket of this test's own, configured as the blob store: (client, store)."""
    endpoint, access_key, secret_key = server
    for variable, value in {
        "BLOB_S3_ENDPOINT": endpoint,
        "BLOB_S3_BUCKET": f"sotay-{secrets.token_hex(6)}",
        "BLOB_S3_REGION": "eu-west-1",
        "BLOB_S3_ACCESS_KEY": access_key,
        "BLOB_S3_SECRET_KEY": secret_key,
    }.items():
        monkeypatch.setenv(variable, value)
    store = blobs.store()
    assert isinstance(store, S3Store)
    store.client.create_bucket()
    return store.client, store


def pieces(data, size=64 * 1024):
    return (data[i : i + size] for i in range(0, len(data), size))


def assert_nothing_left(client):
    assert client.keys() == []
    assert client.open_uploads() == []


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(samples.pdf(), filetypes.PDF), (samples.docx(), filetypes.DOCX), (samples.xlsx(), filetypes.XLSX)],
    ids=["pdf", "docx", "xlsx"],
)
def test_a_small_attachment_is_one_object_read_whole_or_in_ranges_and_deleted(bucket, data, content_type):
    client, store = bucket
    blob = store.put(pieces(data, 100), 50 * MIB)
    assert (blob.content_type, blob.size, blob.sha256) == (content_type, len(data), hashlib.sha256(data).hexdigest())
    assert client.keys() == [blob.key]
    assert b"".join(store.open(blob.key)) == data
    assert b"".join(store.open(blob.key, 10, 20)) == data[10:20]
    assert b"".join(store.open(blob.key, len(data) - 7)) == data[-7:]
    store.delete(blob.key)
    store.delete(blob.key)
    with pytest.raises(NotFound):
        store.open(blob.key)
    assert_nothing_left(client)


def test_a_large_attachment_goes_up_in_parts_and_reads_back_from_anywhere(bucket):
    client, store = bucket
    data = samples.pdf(2 * PART + 12345)
    blob = store.put(pieces(data), 50 * MIB)
    assert client.open_uploads() == []
    assert b"".join(store.open(blob.key, PART - 5, PART + 5)) == data[PART - 5 : PART + 5]
    assert b"".join(store.open(blob.key)) == data


def large_archive_of_no_office_kind():
    # stored uncompressed, so it is past a part before its end shows what it is
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("video.bin", secrets.token_bytes(PART + MIB))
    return buffer.getvalue()


def failing_midway():
    yield samples.pdf(PART + MIB)
    raise ConnectionResetError("the client went away")


@pytest.mark.parametrize(
    ("chunks", "limit", "error"),
    [
        (lambda: pieces(samples.exe()), 50 * MIB, UnsupportedMediaType),
        (lambda: pieces(large_archive_of_no_office_kind()), 50 * MIB, UnsupportedMediaType),
        (lambda: pieces(samples.pdf(PART + MIB)), PART + MIB - 1, PayloadTooLarge),
        (lambda: pieces(samples.pdf(1000)), 999, PayloadTooLarge),
        (failing_midway, 50 * MIB, ConnectionResetError),
    ],
    ids=["exe", "zip-past-a-part", "too-large-past-a-part", "too-large-small", "client-gone"],
)
def test_a_refused_or_failed_upload_leaves_no_object_and_no_open_upload(bucket, chunks, limit, error):
    client, store = bucket
    with pytest.raises(error):
        store.put(chunks(), limit)
    assert_nothing_left(client)


def test_keys_not_of_ours_name_nothing(bucket):
    _, store = bucket
    for key in ("../other-bucket/x", "a" * 42 + "/", "", None):
        with pytest.raises(NotFound):
            store.open(key)


def test_an_unreachable_store_is_503_not_500(bucket, monkeypatch):
    client, store = bucket
    monkeypatch.setattr(client, "base", "http://127.0.0.1:1")
    with pytest.raises(ServiceUnavailable):
        store.put(pieces(samples.pdf()), MIB)
    with pytest.raises(ServiceUnavailable):
        store.open("A" * 43)


def test_a_wrong_secret_is_refused_by_the_server_and_answered_503(bucket):
    client, store = bucket
    blob = store.put(pieces(samples.png()), MIB)
    stranger = S3(client.bucket, client.access_key, "not-the-secret", region="eu-west-1", endpoint=client.base)
    with pytest.raises(ServiceUnavailable):
        S3Store(stranger).open(blob.key)
    with pytest.raises(ServiceUnavailable):
        S3Store(stranger).delete(blob.key)
    assert client.keys() == [blob.key]


def test_fifty_mib_in_and_out_keep_memory_flat(bucket):
    _, store = bucket
    data = samples.pdf(50 * MIB)
    expected = hashlib.sha256(data).hexdigest()
    tracemalloc.start()
    try:
        blob = store.put(pieces(data), 50 * MIB)
        digest = hashlib.sha256()
        for chunk in store.open(blob.key):
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == blob.sha256 == expected
    assert peak < 2 * PART, f"peak {peak / MIB:.1f} MiB"  # a part of 5 MiB at a time, never the 50 MiB


def test_uploads_and_downloads_over_http_resume_from_the_bucket(bucket):
    client, _ = bucket
    kept = {}

    def app(environ, start_response):
        request = Request(environ)
        if request.method == "POST":
            blob, name = uploads.receive_blob(request)
            kept[blob.key] = (blob, name)
            return Response(blob.key, status=201)(environ, start_response)
        return blob_response(request, *kept[request.path.strip("/")])(environ, start_response)

    web = Client(app)
    data = samples.pdf(PART + 3 * MIB)
    key = web.post("/", data={"file": (io.BytesIO(data), "Tài liệu học tập.pdf")}).get_data(as_text=True)
    assert client.keys() == [key]
    part = web.get(f"/{key}", headers={"Range": f"bytes={PART}-"})
    assert (part.status_code, part.data) == (206, data[PART:])
    assert part.headers["Content-Range"] == f"bytes {PART}-{len(data) - 1}/{len(data)}"
    assert web.get(f"/{key}").data == data
