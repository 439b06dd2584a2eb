"""Nobody learns who is a member (issue 8, item 6): for an unknown citizen ID every answer, follow-up
call and header has the same form as for a member, field by field."""

import itertools
import re
import uuid

import pytest
import requests

from tests.e2e.conftest import last_code, login, post
from tests.e2e.people import new_member, other_phone, staff_of
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

_unknown = itertools.count(1)
# headers whose values differ by nature (time, length); their names are still compared
VARYING = {"date", "content-length", "x-correlation-id", "x-request-id", "retry-after"}


@pytest.fixture(scope="module")
def staff(running):
    return staff_of(running)


def unknown_id():
    return f"0099{next(_unknown):08d}"


def value_shape(value):
    if isinstance(value, str):
        try:
            return f"uuid{uuid.UUID(value).version}"
        except ValueError:
            return re.sub(r"\d", "9", value) if value.startswith("+84") else value
    if isinstance(value, dict):
        return {key: value_shape(v) for key, v in value.items()}
    return type(value).__name__


def form(response):
    """What an observer sees of an answer, apart from values that differ by nature."""
    body = response.json()
    return {
        "status": response.status_code,
        "headers": sorted(h.lower() for h in response.headers),
        "fixed_headers": {h.lower(): v for h, v in response.headers.items() if h.lower() not in VARYING},
        "keys": list(body),
        "shape": value_shape(body),
    }


def follow_ups(running, answer, request_path, body, verify_path):
    """The calls an observer would make next: the status, a guessed code, the same request again."""
    challenge = answer.json()["activation_id"]
    return {
        "status": form(requests.get(f"{running.base}/auth/activation/{challenge}", timeout=10)),
        "guess": form(
            post(running, verify_path.format(challenge), {"otp": "000000", "new_password": "Một mật khẩu đủ dài 2026"})
        ),
        "again": form(post(running, request_path, body)),
    }


def same_form(running, member_body, unknown_body, path, verify_path="/auth/activation/{}/verify"):
    member, unknown = post(running, path, member_body), post(running, path, unknown_body)
    assert form(member) == form(unknown)
    assert form(member)["status"] == 202
    assert follow_ups(running, member, path, member_body, verify_path) == follow_ups(
        running, unknown, path, unknown_body, verify_path
    )
    return member.json(), unknown.json()


def test_activation_answers_a_member_and_a_stranger_alike(running, staff):
    member = new_member(running, staff, activated=False)
    answer, decoy = same_form(
        running, {"citizen_id": member["citizen_id"]}, {"citizen_id": unknown_id()}, "/auth/activation"
    )
    assert answer["status"] == decoy["status"] == "code_sent"
    assert last_code(running, member["phone"])  # the member did get a code


def test_a_new_phone_waits_for_confirmation_alike(running, staff):
    member = new_member(running, staff, activated=False)
    phone = other_phone()
    answer, decoy = same_form(
        running,
        {"citizen_id": member["citizen_id"], "phone": phone},
        {"citizen_id": unknown_id(), "phone": phone},
        "/auth/activation",
    )
    assert answer["status"] == decoy["status"] == "pending_approval"


def test_forgotten_password_answers_a_member_and_a_stranger_alike(running, staff):
    member = new_member(running, staff)
    same_form(
        running,
        {"citizen_id": member["citizen_id"]},
        {"citizen_id": unknown_id()},
        "/auth/password/forgot",
        "/auth/password/forgot/{}/verify",
    )


def test_a_member_without_a_phone_is_not_told_so(running, staff):
    member = staff["factory"].member({"id": staff["branch"]}, phone=False)
    same_form(running, {"citizen_id": member["citizen_id"]}, {"citizen_id": unknown_id()}, "/auth/activation")


def test_a_member_whose_committee_is_not_rolled_out_gets_the_neutral_answer_and_an_sms(running, staff):
    branch = staff["factory"].branch(rollout="disabled")
    member = new_member(running, staff, organization_id=branch["id"], activated=False)
    answer, _ = same_form(
        running, {"citizen_id": member["citizen_id"]}, {"citizen_id": unknown_id()}, "/auth/activation"
    )
    told = wait_for(lambda: running.sms(member["phone"]), message="the SMS saying Sổ tay is not there yet")
    assert "chưa" in told[-1]["text"] and not re.search(r"\b\d{6}\b", told[-1]["text"])


def test_sign_in_answers_a_never_activated_account_as_a_wrong_password(running, staff):
    member = new_member(running, staff, activated=False)
    never, stranger = login(running.base, member["citizen_id"], "anything"), login(running.base, unknown_id(), "x")
    assert form(never) == form(stranger)
    assert never.status_code == 401 and never.json()["error"]["code"] == "invalid_credentials"
