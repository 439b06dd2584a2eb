"""One suite for all end-to-end tests: every service as its own process, like `make run`."""

import json
import os
import re
from dataclasses import dataclass, field

import pytest
import requests

from shared.demo import DEMO_PASSWORD
from shared.devrun import Suite
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

GOOD_PASSWORD = "Hoa sen nở giữa đầm 2026"
# the installation's system administrator (the demo seed makes them here): factories create everything else
ADMINISTRATOR = "001000000000"


@dataclass
class Running:
    base: str
    data_dir: str
    amqp_uri: str
    suite: Suite = None
    metrics_url: str = ""  # the gateway's operations port
    codes_read: dict = field(default_factory=dict)  # phone → how many of its codes a test has read

    def sms(self, to=None):
        """Messages in the embedded default's SMS sink (API.md), optionally to one number."""
        path = os.path.join(self.data_dir, "outbox", "sms.jsonl")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            lines = [json.loads(line) for line in handle if line.strip()]
        return [m for m in lines if to is None or m["to"] == to]


def login(base, citizen_id, password=DEMO_PASSWORD):
    return requests.post(f"{base}/auth/login", json={"citizen_id": citizen_id, "password": password}, timeout=10)


def error_code(response):
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()["error"]["code"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def running():
    # KEEP_E2E_DATA=1 keeps the suite's data directory and log afterwards
    with throwaway_suite("sotay-e2e", keep_data=bool(os.environ.get("KEEP_E2E_DATA"))) as started:
        # the seeded members reach identity by event; sign-in works once they have
        wait_for(
            lambda: login(started.base, ADMINISTRATOR).status_code == 200,
            timeout=30,
            interval=0.2,
            message="identity's projection of the administrator",
        )
        yield Running(started.base, started.data_dir, started.amqp_uri, started.suite, started.metrics_url)


@pytest.fixture(scope="session")
def gateway(running):
    return running.base


def post(running, path, body=None, token=None):
    return requests.post(f"{running.base}{path}", json=body, headers=bearer(token) if token else {}, timeout=15)


CODE = re.compile(r"\b(\d{6})\b")


def last_code(running, phone):
    """The code of the next SMS with a code to `phone` that no test has read yet, waiting for it:
    identity hands codes to notify just after answering."""

    def unread():
        codes = [m for m in running.sms(phone) if CODE.search(m["text"])]
        return codes if len(codes) > running.codes_read.get(phone, 0) else None

    codes = wait_for(unread, timeout=10, message=f"an SMS with a code to {phone}")
    running.codes_read[phone] = len(codes)
    return CODE.search(codes[-1]["text"]).group(1)


def activate(running, citizen_id, phone, password=GOOD_PASSWORD):
    started = post(running, "/auth/activation", {"citizen_id": citizen_id})
    assert started.status_code == 202, started.text
    answer = started.json()
    verified = post(
        running,
        f"/auth/activation/{answer['activation_id']}/verify",
        {"otp": last_code(running, phone), "new_password": password},
    )
    assert verified.status_code == 200, verified.text
    return verified.json()
