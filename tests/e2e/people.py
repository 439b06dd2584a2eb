"""Fresh members for end-to-end tests that must not share state with the demo accounts."""
import itertools
import json
import os
import re
import sqlite3

import requests

from tests.e2e.conftest import activate, bearer, login, post
from tests.support.waiting import wait_for

_numbers = itertools.count(1)


def get(running, path, token):
    return requests.get(f"{running.base}{path}", headers=bearer(token), timeout=15)


def patch(running, path, body, token):
    return requests.patch(f"{running.base}{path}", json=body, headers=bearer(token), timeout=15)


def emails(running, to):
    path = os.path.join(running.data_dir, "outbox", "email.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [m for m in map(json.loads, filter(str.strip, handle)) if m["to"] == to]


def freeze_code(message):
    return re.search(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b", message["text"]).group(1)


def known_to_identity(running, citizen_id):
    with sqlite3.connect(os.path.join(running.data_dir, "identity.db")) as db:
        return db.execute("SELECT 1 FROM directory_members WHERE citizen_id = ?", (citizen_id,)).fetchone()


def staff_of(running):
    """The demo administrator's and secretary's tokens, and the demo branch."""
    tokens = {who: login(running.base, cid).json()["access_token"] for who, cid in
              (("admin", "001000000000"), ("secretary", "001000000001"))}
    branch = get(running, "/me", tokens["secretary"]).json()["organization_id"]
    return {**tokens, "branch": branch}


def new_member(running, staff, organization_id=None, activated=True):
    """A member of the demo branch (or `organization_id`) created by the administrator, with a phone
    and an e-mail; activated through the imported phone unless told otherwise."""
    n = next(_numbers)
    citizen_id, phone, email = f"0018800{n:05d}", f"+84970{n:06d}", f"member{n}@example.vn"
    created = post(running, "/members", {
        "citizen_id": citizen_id, "full_name": f"Đảng viên Thử {n}", "status": "official",
        "organization_id": organization_id or staff["branch"], "phone": phone, "email": email}, staff["admin"])
    assert created.status_code == 201, created.text
    wait_for(lambda: known_to_identity(running, citizen_id), message="identity's projection of the new member")
    member = {"id": created.json()["id"], "citizen_id": citizen_id, "phone": phone, "email": email}
    if activated:
        member["tokens"] = activate(running, citizen_id, phone)
    return member


def masked(phone):
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]


def other_phone():
    return f"+84960{next(_numbers):06d}"


