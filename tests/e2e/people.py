"""Factories for end-to-end tests: each test makes the organisations and members it needs through the public
API, as an administrator would, so no test leans on the demo accounts or disturbs what another test sees.
The one thing taken from the installation is its system administrator (the operator command makes the first
one; so does the demo seed). Members and organisations are dicts, as the API answers them."""

import itertools
import json
import os
import re
import sqlite3

import requests
from sqlalchemy.pool import NullPool

from tests.e2e.conftest import ADMINISTRATOR, activate, bearer, login, post
from tests.support.waiting import wait_for

_numbers = itertools.count(1)  # citizen IDs 0017…, phones +84970…, codes E2E-…: ranges no seed and no test uses


def administrator(running):
    """A fresh access token of the installation's system administrator."""
    return login(running.base, ADMINISTRATOR).json()["access_token"]


def get(running, path, token):
    return requests.get(f"{running.base}{path}", headers=bearer(token), timeout=15)


def patch(running, path, body, token):
    return requests.patch(f"{running.base}{path}", json=body, headers=bearer(token), timeout=15)


def put(running, path, body, token):
    return requests.put(f"{running.base}{path}", json=body, headers=bearer(token), timeout=15)


def _identity(running, query, *args):
    """A row of identity's projection (what it knows of members by their events), or None."""
    url = getattr(running, "identity_database_url", None)
    if url:  # identity on PostgreSQL (e.g. several replicas)
        from sqlalchemy import create_engine

        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            return conn.exec_driver_sql(query.replace("?", "%s"), args).fetchone()
    with sqlite3.connect(os.path.join(running.data_dir, "identity.db")) as db:
        return db.execute(query, args).fetchone()


def known_to_identity(running, citizen_id):
    return _identity(running, "SELECT 1 FROM directory_members WHERE citizen_id = ?", citizen_id)


def holds_position_in_identity(running, member_id, organization_id, role):
    return _identity(
        running,
        "SELECT 1 FROM directory_positions WHERE member_id = ? AND organization_id = ? AND role = ?",
        member_id,
        organization_id,
        role,
    )


class Factory:
    """Organisations and members made through the API by the administrator, each waited for until identity
    knows it (a sign-in or a code before that would be a stranger's)."""

    def __init__(self, running):
        self.running = running
        self.admin = administrator(running)
        positions = get(running, "/me", self.admin).json()["positions"]
        self.centre = next(p["organization_id"] for p in positions if p["role"] == "system_administrator")

    def _created(self, path, body):
        answer = post(self.running, path, body, self.admin)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def organization(self, parent_id, name=None):
        n = next(_numbers)
        return self._created(f"/organizations/{parent_id}/children", {"code": f"E2E-{n}", "name": name or f"Tổ {n}"})

    def province(self, rollout="pilot"):
        """A provincial committee of its own under the centre: in `rollout` (members may activate from pilot on)."""
        province = self.organization(self.centre)
        if rollout != "disabled":
            self.rollout(province, rollout)
        return {**province, "rollout": rollout}

    def rollout(self, organization, state):
        answer = put(self.running, f"/organizations/{organization['id']}/rollout", {"state": state}, self.admin)
        assert answer.status_code == 200, answer.text
        wait_for(
            lambda: _identity(
                self.running,
                "SELECT 1 FROM directory_organizations WHERE id = ? AND rollout = ?",
                organization["id"],
                state,
            ),
            message="identity to hear of the rollout",
        )

    def branch(self, grassroots=None, rollout="pilot"):
        """A branch of `grassroots`, or of a new grassroots committee in a new province in `rollout`."""
        grassroots = grassroots or self.organization(self.province(rollout)["id"])
        return self.organization(grassroots["id"])

    def member(self, organization, activated=False, phone=True, email=True, **fields):
        """A member of `organization`, with a phone and an e-mail on record unless told otherwise; activated
        (signed in once, `tokens` and `token`) through that phone when asked."""
        n = next(_numbers)
        body = {
            "citizen_id": f"0017{n:08d}",
            "full_name": f"Đảng viên Thử {n}",
            "status": "official",
            "organization_id": organization["id"],
            "phone": f"+84970{n:06d}" if phone else None,
            "email": f"member{n}@example.vn" if email else None,
            **fields,
        }
        created = self._created("/members", {key: value for key, value in body.items() if value is not None})
        member = {**created, "phone": body["phone"], "email": body["email"]}
        wait_for(lambda: known_to_identity(self.running, member["citizen_id"]), message="identity to know the member")
        if activated:
            member["tokens"] = activate(self.running, member["citizen_id"], member["phone"])
            member["token"] = member["tokens"]["access_token"]
        return member

    def officer(self, organization, role="secretary", member_of=None, **fields):
        """An activated member of `member_of` (else of `organization`) holding `role` in `organization`."""
        officer = self.member(member_of or organization, activated=True, **fields)
        self.appoint(officer, organization, role)
        return officer

    def appoint(self, member, organization, role):
        self._created(f"/members/{member['id']}/positions", {"organization_id": organization["id"], "role": role})
        wait_for(
            lambda: holds_position_in_identity(self.running, member["id"], organization["id"], role),
            message="identity to know the position",
        )


def staff_of(running):
    """A branch of its own (in a province in pilot) with an activated secretary; the administrator."""
    factory = Factory(running)
    branch = factory.branch()
    secretary = factory.officer(branch)
    return {
        "factory": factory,
        "admin": factory.admin,
        "secretary": secretary["token"],
        "secretary_citizen_id": secretary["citizen_id"],
        "branch": branch["id"],
    }


def new_member(running, staff, organization_id=None, activated=True):
    """A member of the staff's branch (or of `organization_id`) with a phone and an e-mail; activated through
    that phone unless told otherwise."""
    return staff["factory"].member({"id": organization_id or staff["branch"]}, activated=activated)


def emails(running, to):
    path = os.path.join(running.data_dir, "outbox", "email.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [m for m in map(json.loads, filter(str.strip, handle)) if m["to"] == to]


def freeze_code(message):
    return re.search(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b", message["text"]).group(1)


def masked(phone):
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]


def other_phone():
    return f"+84960{next(_numbers):06d}"
