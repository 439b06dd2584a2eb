"""A real S3 API server on this machine for the tests: moto's (`moto[server]`, requirements-dev.txt)."""

import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support.waiting import free_port, stop_process, wait_for


def command():
    """moto's server next to this Python (the project's virtualenv), or the one MOTO_SERVER names."""
    found = os.environ.get("MOTO_SERVER") or str(Path(sys.executable).parent / "moto_server")
    if not Path(found).exists():
        raise RuntimeError(f"no S3 API server at {found}: install requirements-dev.txt (moto[server])")
    return found


def answers(url):
    try:
        return requests.get(url, timeout=1).status_code < 500
    except requests.RequestException:
        return False


ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def _iam(endpoint, **form):
    # unsigned: the server checks nothing until `require_signatures`; the header only routes the call to IAM
    routing = "AWS4-HMAC-SHA256 Credential=AKIAROUTING/20260101/us-east-1/iam/aws4_request, SignedHeaders=host"
    response = requests.post(
        endpoint, data={**form, "Version": "2010-05-08"}, headers={"Authorization": routing}, timeout=10
    )
    response.raise_for_status()
    return response.text


def require_signatures(endpoint):
    """(access key, secret key) of a user allowed everything on S3; from then on the server checks every
    request's signature (a wrong one is 403 SignatureDoesNotMatch), as S3 does."""
    _iam(endpoint, Action="CreateUser", UserName="sotay")
    _iam(endpoint, Action="PutUserPolicy", UserName="sotay", PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3))
    created = _iam(endpoint, Action="CreateAccessKey", UserName="sotay")
    access_key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", created).group(1)
    secret_key = re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", created).group(1)
    answer = requests.post(
        f"{endpoint}/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"}, timeout=10
    )
    answer.raise_for_status()
    return access_key, secret_key


@contextmanager
def running(log_path):
    """The server's endpoint (http://127.0.0.1:<port>) while it runs; stopped afterwards."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [command(), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is not None or answers(endpoint), timeout=30, message="the S3 server")
        if process.poll() is not None:
            raise RuntimeError(f"the S3 server exited: {Path(log_path).read_text(errors='replace')[-2000:]}")
        yield endpoint
    finally:
        stop_process(process)
