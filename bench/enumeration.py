"""`python -m bench.enumeration` (part of `make bench`): does a member's sign-in answer take as long as a stranger's?

Starts the suite as bench/run.py does, creates fresh members through the API, then times, through the gateway,
30 samples each of a member's and an unknown citizen ID's activation request, forgotten-password request and
sign-in with a wrong password, interleaved (member, stranger, member, …) so drift hits both alike. Each sample is
a different citizen ID, so no limit is ever hit. Prints the medians and their ratio (target: within 20 %).
"""

import json
import os
import re
import sqlite3
import statistics
import time
import urllib.error
import urllib.request
import warnings

from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

SAMPLES = int(os.environ.get("BENCH_SAMPLES", 30))
PASSWORD = "Hoa sen nở giữa đầm 2026"


def call(url, body=None, token=None):
    """(status, seconds) of one JSON request."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        status = exc.code
    return status, time.perf_counter() - started


def get_json(url, body=None, token=None):
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, headers=headers)
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.load(response)


def sms_code(data_dir, phone):
    path = os.path.join(data_dir, "outbox", "sms.jsonl")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        texts = [m["text"] for m in map(json.loads, filter(str.strip, handle)) if m["to"] == phone]
    codes = [re.search(r"\b(\d{6})\b", t) for t in texts]
    return next((c.group(1) for c in reversed(codes) if c), None)


def create_members(base, data_dir, admin, branch, prefix, count):
    people = [(f"{prefix}{n:06d}", f"+8497{prefix[-3:]}{n:04d}") for n in range(count)]
    for citizen_id, phone in people:
        get_json(
            f"{base}/members",
            {
                "citizen_id": citizen_id,
                "full_name": "Đảng viên Đo Thời Gian",
                "status": "official",
                "organization_id": branch,
                "phone": phone,
            },
            admin,
        )

    def projected():
        with sqlite3.connect(os.path.join(data_dir, "identity.db")) as db:
            return (
                db.execute(
                    "SELECT count(*) FROM directory_members WHERE citizen_id LIKE ?", (f"{prefix}%",)
                ).fetchone()[0]
                == count
            )

    wait_for(projected, timeout=60, interval=0.2, message="identity's projection of the bench members")
    return people


def interleaved(member_call, stranger_call):
    members, strangers = [], []
    for n in range(SAMPLES):
        for calls, samples in ((member_call, members), (stranger_call, strangers)):
            status, seconds = calls(n)
            assert status in (202, 401), status
            samples.append(seconds * 1000)
    return statistics.median(members), statistics.median(strangers)


def main():
    with throwaway_suite("sotay-bench-enum") as started:
        base, data_dir = started.base, started.data_dir

        def signed_in(citizen_id):
            try:
                return get_json(f"{base}/auth/login", {"citizen_id": citizen_id, "password": "sotay-demo-2026"})
            except Exception:
                return None

        admin = wait_for(lambda: signed_in("001000000000"), timeout=30, interval=0.3, message="sign-in")["access_token"]
        branch = get_json(f"{base}/me", token=signed_in("001000000001")["access_token"])["organization_id"]
        fresh = create_members(base, data_dir, admin, branch, "001771", SAMPLES)  # never activated
        active = create_members(base, data_dir, admin, branch, "001772", SAMPLES)  # activated below
        for citizen_id, phone in active:
            answer = get_json(f"{base}/auth/activation", {"citizen_id": citizen_id})
            code = wait_for(lambda phone=phone: sms_code(data_dir, phone), message="an activation code")
            get_json(
                f"{base}/auth/activation/{answer['activation_id']}/verify", {"otp": code, "new_password": PASSWORD}
            )
        for _ in range(10):  # warm both paths
            call(f"{base}/auth/login", {"citizen_id": "001000000002", "password": "wrong"})
            call(f"{base}/auth/login", {"citizen_id": "009999999990", "password": "wrong"})

        results = {
            "activation (POST /auth/activation)": interleaved(
                lambda n: call(f"{base}/auth/activation", {"citizen_id": fresh[n][0]}),
                lambda n: call(f"{base}/auth/activation", {"citizen_id": f"009881{n:06d}"}),
            ),
            "forgotten password (POST /auth/password/forgot)": interleaved(
                lambda n: call(f"{base}/auth/password/forgot", {"citizen_id": active[n][0]}),
                lambda n: call(f"{base}/auth/password/forgot", {"citizen_id": f"009882{n:06d}"}),
            ),
            "sign-in, never activated (POST /auth/login)": interleaved(
                lambda n: call(f"{base}/auth/login", {"citizen_id": fresh[n][0], "password": "not it"}),
                lambda n: call(f"{base}/auth/login", {"citizen_id": f"009883{n:06d}", "password": "not it"}),
            ),
            "sign-in, wrong password (POST /auth/login)": interleaved(
                lambda n: call(f"{base}/auth/login", {"citizen_id": active[n][0], "password": "not it"}),
                lambda n: call(f"{base}/auth/login", {"citizen_id": f"009884{n:06d}", "password": "not it"}),
            ),
        }
    report(results)


def report(results):
    print(
        f"\nbench.enumeration — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, median of {SAMPLES} "
        f"interleaved samples each, {os.cpu_count()} cores"
    )
    print(f"{'request':50} {'member ms':>10} {'stranger ms':>12} {'ratio':>7}")
    for name, (member, stranger) in results.items():
        ratio = member / stranger
        verdict = "ok" if 0.8 <= ratio <= 1.2 else "OVER 20 %"
        print(f"{name:50} {member:10.1f} {stranger:12.1f} {ratio:7.2f}  {verdict}")


if __name__ == "__main__":
    main()
