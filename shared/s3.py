"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, …), when `BLOB_S3_BUCKET` is set.

A small client of our own over `requests` (already a dependency) rather than boto3: the store needs six calls,
boto3 and botocore would add ~100 MB to every image for them, and here every byte's path is visible — parts
of 5 MiB in memory at most, downloads read as they are sent, green under eventlet like the rest of the gateway.
Requests are signed with AWS Signature Version 4 (the payload's SHA-256 signed too, so the server checks it).
"""

import hashlib
import hmac
import logging
import re
from collections import deque
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

import requests

from shared.blobs import CHUNK, BlobStore, Intake, checked, new_key
from shared.errors import NotFound, ServiceUnavailable

log = logging.getLogger(__name__)

PART = 5 * 1024 * 1024  # S3's smallest part but the last: about the most an upload holds in memory
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()  # what a bodiless request signs
TIMEOUT = (5, 60)  # seconds to connect, then between two reads
AWS = "https://s3.{region}.amazonaws.com"


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _quote(text):
    return quote(text, safe="-_.~")


class S3:
    """Signed calls on one bucket. `endpoint` None means AWS itself (virtual-hosted addressing); any other
    endpoint is addressed by path (/bucket/key), which every S3-compatible server takes."""

    def __init__(self, bucket, access_key, secret_key, region="us-east-1", endpoint=None, session=None):
        self.bucket, self.region = bucket, region
        self.access_key, self.secret_key = access_key, secret_key
        if endpoint:
            self.base, self.prefix = endpoint.rstrip("/"), f"/{bucket}"
        else:
            self.base, self.prefix = f"https://{bucket}.s3.{region}.amazonaws.com", ""
        self.session = session or requests.Session()

    def sign(self, method, url, headers, payload_hash, now=None):
        """The headers of a request with SigV4's Authorization added (`url` with its query, already encoded)."""
        now = now or datetime.now(UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        parts = urlsplit(url)
        signed = {key.lower(): " ".join(str(value).split()) for key, value in headers.items()}
        signed |= {"host": parts.netloc, "x-amz-content-sha256": payload_hash, "x-amz-date": stamp}
        names = ";".join(sorted(signed))
        canonical = "\n".join(
            [
                method,
                parts.path or "/",
                parts.query,  # already canonical: made by `url`
                "".join(f"{name}:{signed[name]}\n" for name in sorted(signed)),
                names,
                payload_hash,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = _hmac(("AWS4" + self.secret_key).encode(), day)
        for part in (self.region, "s3", "aws4_request"):
            key = _hmac(key, part)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        authorization = f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, SignedHeaders={names}, "
        return {**headers, **signed, "authorization": authorization + f"Signature={signature}"}

    def url(self, key="", query=None):
        """The URL of `key` (or of the bucket) with `query` (a dict) encoded and sorted as SigV4 signs it."""
        path = f"{self.prefix}/{_quote(key)}" if key else (self.prefix or "/")
        encoded = "&".join(f"{_quote(name)}={_quote(str(value))}" for name, value in sorted((query or {}).items()))
        return f"{self.base}{path}" + (f"?{encoded}" if encoded else "")

    def request(self, method, key="", query=None, body=b"", headers=None, expected=(200,), stream=False):
        """`body`: bytes, or a Payload of chunks."""
        url = self.url(key, query)
        payload = body if isinstance(body, Payload) else Payload([body])
        signed = self.sign(method, url, headers or {}, payload.sha256)
        try:
            response = self.session.request(
                method, url, data=payload if payload.len else None, headers=signed, timeout=TIMEOUT, stream=stream
            )
        except requests.RequestException as exc:
            log.warning("blob store unreachable: %s %s", method, type(exc).__name__)
            raise ServiceUnavailable() from None
        if response.status_code not in expected:
            code = _error_code(response)
            response.close()
            if response.status_code == 404 and code in ("NoSuchKey", "NoSuchUpload", None):
                raise NotFound()
            log.warning("blob store refused %s: %s %s", method, response.status_code, code)
            raise ServiceUnavailable()
        return response

    def create_bucket(self):
        """For development and tests; deployments make their bucket (and its lifecycle rule) themselves."""
        where = f"<LocationConstraint>{self.region}</LocationConstraint>" if self.region != "us-east-1" else ""
        body = f"<CreateBucketConfiguration>{where}</CreateBucketConfiguration>".encode() if where else b""
        self.request("PUT", body=body, expected=(200, 409))

    def put_object(self, key, body):
        self.request("PUT", key, body=body)

    def start_upload(self, key):
        return _element(self.request("POST", key, {"uploads": ""}).text, "UploadId")

    def upload_part(self, key, upload_id, number, body):
        response = self.request("PUT", key, {"partNumber": number, "uploadId": upload_id}, body=body)
        return response.headers["ETag"]

    def complete_upload(self, key, upload_id, etags):
        parts = "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{escape(tag)}</ETag></Part>" for n, tag in enumerate(etags, 1)
        )
        body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
        response = self.request("POST", key, {"uploadId": upload_id}, body=body)
        if "<Error>" in response.text:  # S3 may answer 200 and report the failure in the body
            raise ServiceUnavailable()

    def abort_upload(self, key, upload_id):
        self.request("DELETE", key, {"uploadId": upload_id}, expected=(204, 404))

    def open_uploads(self):
        """The keys with a multipart upload started and neither completed nor aborted."""
        return re.findall(r"<Key>([^<]*)</Key>", self.request("GET", query={"uploads": ""}).text)

    def keys(self):
        return re.findall(r"<Key>([^<]*)</Key>", self.request("GET", query={"list-type": 2}).text)

    def get(self, key, start, end):
        headers = {} if start == 0 and end is None else {"range": f"bytes={start}-{'' if end is None else end - 1}"}
        return self.request("GET", key, headers=headers, expected=(200, 206), stream=True)

    def delete(self, key):
        self.request("DELETE", key, expected=(200, 204, 404))


def _element(text, name):
    match = re.search(rf"<{name}>([^<]*)</{name}>", text or "")
    return match.group(1) if match else None


def _error_code(response):
    try:
        return _element(response.text, "Code")
    except Exception:  # a body that is no S3 error tells nothing more
        return None


class Payload:
    """Chunks sent as one request body as they are, never joined into one more copy: http.client reads them one by
    one (`read`), requests takes the length from `len`."""

    def __init__(self, chunks):
        self.chunks = deque(chunk for chunk in chunks if chunk)
        self.len = sum(len(chunk) for chunk in self.chunks)
        digest = hashlib.sha256()
        for chunk in self.chunks:
            digest.update(chunk)
        self.sha256 = digest.hexdigest()

    def read(self, size=-1):
        return self.chunks.popleft() if self.chunks else b""


class S3Chunks:
    """A GET's body in CHUNKs; `close()` gives the connection back even when the client left early."""

    def __init__(self, response):
        self.response = response
        self.chunks = response.iter_content(CHUNK)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.chunks)

    def close(self):
        self.response.close()


class S3Store(BlobStore):
    """A blob is one object named by its key. One that fits in a part goes up in one PUT once it has been accepted;
    a larger one as a multipart upload that is completed only once the last byte has been accepted, and aborted on
    any failure, so a refused upload leaves neither an object nor an open upload (a bucket lifecycle rule that
    aborts incomplete uploads after a day covers a process killed mid-way)."""

    def __init__(self, client):
        self.client = client

    def put(self, chunks, limit):
        key, intake = new_key(), Intake(chunks, limit)
        buffered, size, upload, etags = [], 0, None, []
        try:
            for chunk in intake:
                buffered.append(chunk)
                size += len(chunk)
                if size >= PART:
                    upload = upload or self.client.start_upload(key)
                    etags.append(self.client.upload_part(key, upload, len(etags) + 1, Payload(buffered)))
                    buffered, size = [], 0
            blob = intake.blob(key)
            if upload is None:
                self.client.put_object(key, Payload(buffered))
            else:
                if buffered:
                    etags.append(self.client.upload_part(key, upload, len(etags) + 1, Payload(buffered)))
                self.client.complete_upload(key, upload, etags)
            return blob
        except BaseException:
            if upload is not None:
                self._abort(key, upload)
            raise

    def _abort(self, key, upload):
        try:
            self.client.abort_upload(key, upload)
        except Exception:  # the upload's own failure is the one to report
            log.warning("an abandoned multipart upload is left for the bucket's lifecycle rule to abort")

    def open(self, key, start=0, end=None):
        return S3Chunks(self.client.get(checked(key), start, end))

    def delete(self, key):
        self.client.delete(checked(key))
