"""Imports as an attacker would use them (issue 8, item 10): a refused caller costs the suite nothing,
the file never crosses the broker, and a file of rejected rows does not hold members."""

import base64
import json
import os
import socket
from urllib.parse import urlsplit

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcClient

from shared.context import AUTH_TOKEN_KEY
from tests.e2e.conftest import bearer, login
from tests.e2e.people import Factory
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

HEADER = (
    "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
    "organization_code,status\n"
)


@pytest.fixture(scope="module")
def world(running):
    """A branch of its own and an activated member of it."""
    factory = Factory(running)
    branch = factory.branch()
    return {"branch": branch, "member": factory.member(branch, activated=True)}


def send_headers_only(running, path, headers, length, prefix=b""):
    """A request announcing `length` bytes of body but sending only `prefix`: the status and JSON
    answer, which only come back if the server answers without reading the body."""
    url = urlsplit(running.base)
    lines = [
        f"POST {url.path}{path} HTTP/1.1",
        f"Host: {url.netloc}",
        f"Content-Length: {length}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection((url.hostname, url.port), timeout=15) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + prefix)
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < _length(received):
            chunk = sock.recv(65536)  # a server waiting for the body times this out
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(received):
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return int(line.split(":", 1)[1])
    return 1 << 30


def finished(running, token, job_id):
    job = requests.get(f"{running.base}/imports/{job_id}", headers=bearer(token), timeout=10).json()
    return job if job["status"] in ("completed", "failed") else None


def left_in_import_dir(running):
    directory = os.path.join(running.data_dir, "imports")
    return os.listdir(directory) if os.path.isdir(directory) else []


def test_a_members_large_upload_is_refused_before_its_body_is_read(running, world):
    member = world["member"]["token"]
    status, answer = send_headers_only(
        running,
        "/imports",
        {**bearer(member), "Content-Type": "text/csv"},
        length=32 * 1024 * 1024,
        prefix=HEADER.encode(),
    )
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    assert left_in_import_dir(running) == []


def test_an_upload_over_the_limit_is_refused_without_being_read(running):
    admin = login(running.base, "001000000000").json()["access_token"]
    status, answer = send_headers_only(
        running,
        "/imports",
        {**bearer(admin), "Content-Type": "text/csv"},
        length=32 * 1024 * 1024 + 1,
        prefix=HEADER.encode(),
    )
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")
    assert left_in_import_dir(running) == []


def test_a_multipart_upload_travels_by_reference_and_is_deleted_once_imported(running, world):
    admin = login(running.base, "001000000000").json()["access_token"]
    code = world["branch"]["code"]
    csv = HEADER + f"001088000601,Đỗ Văn Tâm,1988-08-08,Nam,,,,2012-01-01,2013-01-01,{code},chính thức\n"
    started = requests.post(
        f"{running.base}/imports?dry_run=true",
        headers=bearer(admin),
        timeout=20,
        files={"file": ("export.csv", csv.encode(), "text/csv")},
    )
    assert started.status_code == 202, started.text
    job = wait_for(lambda: finished(running, admin, started.json()["id"]), timeout=30, message="the import")
    assert (job["status"], job["accepted"], job["rejected"]) == ("completed", 1, 0)
    wait_for(lambda: left_in_import_dir(running) == [], timeout=10, message="members to delete the upload")


def test_a_file_of_rejected_rows_does_not_hold_members(running, world):
    admin = login(running.base, "001000000000").json()["access_token"]
    rows = 250_000
    csv = HEADER + f"x,Sai,,,,,,,,{world['branch']['code']},chính thức\n" * rows
    started = requests.post(
        f"{running.base}/imports?dry_run=true",
        data=csv.encode(),
        timeout=60,
        headers={**bearer(admin), "Content-Type": "text/csv"},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]

    def members_answers():
        try:
            return requests.get(f"{running.base}/me", headers=bearer(admin), timeout=2).status_code == 200
        except requests.Timeout:
            return False

    wait_for(members_answers, timeout=3, message="members to answer during the import")
    job = requests.get(f"{running.base}/imports/{job_id}", headers=bearer(admin), timeout=10).json()
    assert job["status"] == "running" and job["processed_rows"] < rows  # it answered meanwhile, not after
    done = wait_for(lambda: finished(running, admin, job_id), timeout=120, interval=0.5, message="the import")
    assert (done["accepted"], done["rejected"]) == (0, rows)


@pytest.mark.parametrize(
    "reference",
    [
        base64.b64encode(HEADER.encode()).decode(),  # the file itself, as the old RPC carried it
        "../members.db",
        "/etc/passwd",
        "../" * 8 + "etc/passwd",
        "x" * 43,
    ],
)
def test_members_takes_only_a_reference_to_an_upload_of_its_own(running, reference):
    admin = login(running.base, "001000000000").json()["access_token"]
    with ClusterRpcClient(context_data={AUTH_TOKEN_KEY: admin}, uri=running.amqp_uri) as client:
        with pytest.raises(RemoteError) as refused:
            client.members.start_import(reference, "export.csv", True)
    assert refused.value.exc_type == "ValidationError"
    assert os.path.exists(os.path.join(running.data_dir, "members.db"))
