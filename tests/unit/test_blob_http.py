"""Attachments over HTTP (uploads.receive_blob, downloads.blob_response) on a tiny WSGI app, as the gateway will use
them: uploads streamed in and refused without a trace, downloads that resume (Range, If-Range), revalidate (ETag) and
keep their Vietnamese names."""

import io
import os
import socket

import eventlet
import pytest
import requests
from eventlet import wsgi
from werkzeug.http import parse_options_header
from werkzeug.test import Client
from werkzeug.wrappers import Request

from shared import blobs, filetypes, uploads
from shared.downloads import blob_response, byte_range, content_disposition
from shared.errors import NotFound, RangeNotSatisfiable, SotayError
from shared.http import FileSendingProtocol, error_response, json_response
from tests.support import samples

pytestmark = pytest.mark.usefixtures("blob_dir")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-9", (0, 10)),
        ("bytes=10-", (10, 100)),
        ("bytes=-10", (90, 100)),
        ("bytes=-1000", (0, 100)),
        ("bytes=90-1000", (90, 100)),
        ("bytes=99-99", (99, 100)),
        ("bytes = 0-9", None),
        ("bytes=9-0", None),  # invalid: ignored, the whole body
        ("bytes=0-1,5-6", None),  # several ranges: the whole body
        ("items=0-9", None),
        ("bytes=-", None),
        ("bytes=a-b", None),
        ("bytes=" + "9" * 5000 + "-", None),
    ],
)
def test_range_headers(header, expected):
    assert byte_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_a_range_past_the_end_is_416(header):
    with pytest.raises(RangeNotSatisfiable) as refused:
        byte_range(header, 100)
    assert refused.value.headers == {"Content-Range": "bytes */100"}


def test_a_vietnamese_name_downloads_as_itself_with_an_ascii_fallback():
    name = 'Nghị quyết Đại hội "XIV" 100%.pdf'
    header = content_disposition(name)
    assert header.isascii()
    assert header.startswith("attachment; filename=\"Nghi quyet Dai hoi _XIV_ 100%.pdf\"; filename*=UTF-8''")
    assert "Ngh%E1%BB%8B%20quy%E1%BA%BFt%20%C4%90%E1%BA%A1i" in header
    assert parse_options_header(header) == ("attachment", {"filename": name})


@pytest.mark.parametrize(
    ("sent", "content_type", "shown"),
    [
        ("Nghị quyết số 1.pdf", filetypes.PDF, "Nghị quyết số 1.pdf"),
        ("../../etc/passwd", filetypes.PDF, "passwd.pdf"),
        ("C:\\Users\\Lan\\Báo cáo.xlsx", filetypes.XLSX, "Báo cáo.xlsx"),
        ("scan.pdf", filetypes.PNG, "scan.pdf.png"),  # the name does not get to say what the bytes are
        ("ảnh.JPEG", filetypes.JPEG, "ảnh.JPEG"),
        ("invoice\u202egpj.exe", filetypes.PDF, "invoicegpj.exe.pdf"),  # a right-to-left override is gone
        ("a\x00b\r\nc.pdf", filetypes.PDF, "abc.pdf"),
        ("", filetypes.DOCX, "tep-dinh-kem.docx"),
        (None, filetypes.DOCX, "tep-dinh-kem.docx"),
        ("..", filetypes.PDF, "tep-dinh-kem.pdf"),
        (".pdf", filetypes.PDF, "pdf.pdf"),
    ],
)
def test_display_names(sent, content_type, shown):
    assert uploads.display_name(sent, content_type) == shown


def test_a_long_name_is_cut_to_255_characters_keeping_its_extension():
    shown = uploads.display_name("Đ" * 400 + ".docx", filetypes.DOCX)
    assert len(shown) == 255
    assert shown.endswith("Đ.docx")


# a tiny WSGI app the way the gateway will use them: upload → (blob, name) kept; GET /<key> → the download
LIMIT = 100_000


@pytest.fixture
def client():
    kept = {}

    def app(environ, start_response):
        request = Request(environ)
        try:
            if request.method == "POST":
                blob, name = uploads.receive_blob(request, limit=LIMIT)
                kept[blob.key] = (blob, name)
                response = json_response({"key": blob.key, "name": name, "content_type": blob.content_type}, 201)
            else:
                blob, name = kept.get(request.path.strip("/"), (None, None))
                if blob is None:
                    raise NotFound()
                response = blob_response(request, blob, name)
        except SotayError as exc:
            response = error_response(exc)
        return response(environ, start_response)

    return Client(app)


def upload(client, data, name="Nghị quyết.pdf"):
    return client.post("/", data={"file": (io.BytesIO(data), name), "title": "ignored"})


def test_an_upload_downloads_whole_with_its_headers(client):
    data = samples.pdf(50_000)
    answer = upload(client, data)
    assert answer.status_code == 201
    assert answer.json["name"] == "Nghị quyết.pdf"
    assert answer.json["content_type"] == filetypes.PDF
    download = client.get(f"/{answer.json['key']}")
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["Content-Length"] == str(len(data))
    assert download.headers["Content-Type"] == filetypes.PDF
    assert download.headers["ETag"] == f'"{blobs.hashlib.sha256(data).hexdigest()}"'
    assert download.headers["Accept-Ranges"] == "bytes"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"].startswith("private")
    assert parse_options_header(download.headers["Content-Disposition"]) == (
        "attachment",
        {"filename": "Nghị quyết.pdf"},
    )


def test_a_current_copy_is_304_and_a_range_resumes(client):
    data = samples.pdf(50_000)
    key = upload(client, data).json["key"]
    tag = client.get(f"/{key}").headers["ETag"]
    assert client.get(f"/{key}", headers={"If-None-Match": tag}).status_code == 304
    assert client.get(f"/{key}", headers={"If-None-Match": f"W/{tag}"}).status_code == 304
    assert client.get(f"/{key}", headers={"If-None-Match": '"other"'}).status_code == 200
    part = client.get(f"/{key}", headers={"Range": "bytes=40000-"})
    assert part.status_code == 206
    assert part.data == data[40000:]
    assert part.headers["Content-Range"] == f"bytes 40000-49999/{len(data)}"
    assert part.headers["Content-Length"] == "10000"
    tail = client.get(f"/{key}", headers={"Range": "bytes=-5"})
    assert (tail.status_code, tail.data) == (206, data[-5:])


def test_if_range_resumes_only_the_same_bytes(client):
    data = samples.pdf(50_000)
    key = upload(client, data).json["key"]
    tag = client.get(f"/{key}").headers["ETag"]
    same = client.get(f"/{key}", headers={"Range": "bytes=0-99", "If-Range": tag})
    assert (same.status_code, same.data) == (206, data[:100])
    for stale in ('"another"', f"W/{tag}", "Wed, 21 Oct 2015 07:28:00 GMT"):
        whole = client.get(f"/{key}", headers={"Range": "bytes=0-99", "If-Range": stale})
        assert (whole.status_code, whole.data) == (200, data)


def test_a_range_past_the_end_is_416_in_our_error_format(client):
    data = samples.pdf(1000)
    key = upload(client, data).json["key"]
    answer = client.get(f"/{key}", headers={"Range": "bytes=1000-"})
    assert answer.status_code == 416
    assert answer.headers["Content-Range"] == "bytes */1000"
    assert answer.json["error"]["code"] == "range_not_satisfiable"


def test_head_answers_the_headers_only(client):
    key = upload(client, samples.png()).json["key"]
    answer = client.head(f"/{key}")
    assert answer.status_code == 200
    assert answer.headers["Content-Length"] == str(len(samples.png()))
    assert answer.data == b""


def test_a_raw_body_is_taken_with_its_name_from_content_disposition(client):
    data = samples.xlsx()
    answer = client.post(
        "/",
        data=data,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": "attachment; filename*=UTF-8''B%C3%A1o%20c%C3%A1o.xlsx",
        },
    )
    assert answer.status_code == 201
    assert (answer.json["name"], answer.json["content_type"]) == ("Báo cáo.xlsx", filetypes.XLSX)
    assert client.get(f"/{answer.json['key']}").data == data


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (samples.exe(), 415, "unsupported_media_type"),
        (samples.html(), 415, "unsupported_media_type"),
        (samples.pdf(LIMIT + 1), 413, "payload_too_large"),
        (b"", 400, "validation_error"),
    ],
    ids=["exe", "html", "too-large", "empty"],
)
def test_refused_uploads_leave_nothing_behind(client, blob_dir, data, status, code):
    answer = upload(client, data, name="report.pdf")
    assert answer.status_code == status
    assert answer.json["error"]["code"] == code
    assert samples.stored_files(blob_dir) == []


def test_exactly_the_limit_is_taken_over_http(client):
    assert upload(client, samples.pdf(LIMIT)).status_code == 201


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client, blob_dir):
    answer = client.post("/", data=samples.pdf(3 * LIMIT), headers={"Content-Type": "application/pdf"})
    assert answer.status_code == 413
    assert samples.stored_files(blob_dir) == []


def test_a_multipart_body_without_the_file_is_400(client):
    answer = client.post("/", data={"title": "no file"}, content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "file" in answer.json["error"]["details"]


def test_a_truncated_multipart_body_is_400_and_leaves_nothing(client, blob_dir):
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + samples.pdf(5000)
    )
    answer = client.post("/", data=body, headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert answer.status_code == 400
    assert samples.stored_files(blob_dir) == []


def test_an_unknown_key_is_404(client):
    assert client.get("/" + "A" * 43).status_code == 404


@pytest.fixture
def gateway_server(blob_dir):
    """blob_response under eventlet.wsgi with the gateway's protocol (the blob's bytes sent by sendfile); its
    socket's send buffer kept small, so a download waits on a full window as it would on a slow link."""
    kept = {}

    def app(environ, start_response):
        request = Request(environ)
        blob = kept[request.path.strip("/")]
        return blob_response(request, blob, "Nghị quyết.pdf")(environ, start_response)

    listener = eventlet.listen(("127.0.0.1", 0))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)  # the accepted sockets inherit it
    server = eventlet.spawn(wsgi.server, listener, app, protocol=FileSendingProtocol, log_output=False)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        yield base, kept
    finally:
        server.kill()
        listener.close()


def test_a_stored_file_is_sent_by_sendfile_whole_and_resumed(gateway_server, monkeypatch):
    base, kept = gateway_server
    data = samples.pdf(100) + os.urandom(3 * 1024 * 1024)  # no two offsets alike: a misplaced byte shows
    blob = blobs.store().put(iter([data]), limit=len(data))
    kept[blob.key] = blob
    sent = []
    sendfile = os.sendfile
    monkeypatch.setattr(os, "sendfile", lambda *args: sent.append(args[3]) or sendfile(*args))

    whole = requests.get(f"{base}/{blob.key}", timeout=30)
    assert (whole.status_code, whole.headers["Content-Length"]) == (200, str(len(data)))
    assert "Transfer-Encoding" not in whole.headers
    assert whole.content == data
    assert len(sent) > 1  # the kernel sent it, waiting for the client's window more than once

    resumed = requests.get(f"{base}/{blob.key}", headers={"Range": "bytes=1000000-2000000"}, timeout=30)
    assert resumed.status_code == 206
    assert resumed.headers["Content-Range"] == f"bytes 1000000-2000000/{len(data)}"
    assert resumed.content == data[1000000:2000001]
    small = requests.get(f"{base}/{blob.key}", headers={"Range": "bytes=-10"}, timeout=30)
    assert (small.status_code, small.content) == (206, data[-10:])
