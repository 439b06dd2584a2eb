"""Account recovery under attack (issue 8, items 1–3 and 9): which phone a code may go to, who may
confirm a new one, the "not me" freeze, and recovery of officers through a system administrator."""

import re

import pytest

from tests.e2e.conftest import GOOD_PASSWORD, error_code, last_code, login, post
from tests.e2e.people import (
    ADMINISTRATOR,
    emails,
    freeze_code,
    get,
    holds_position_in_identity,
    masked,
    new_member,
    other_phone,
    patch,
    staff_of,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


def notices(running, phone):
    """The security notices ("not me" codes) sent to `phone`."""
    return [m for m in running.sms(phone) if "not me" in m["text"].lower()]


@pytest.fixture(scope="module")
def staff(running):
    return staff_of(running)


def test_the_branch_secretary_cannot_approve_a_new_phone_on_the_administrators_reset(running, staff):
    taken = other_phone()
    requested = post(running, "/auth/password/forgot", {"citizen_id": ADMINISTRATOR, "phone": taken})
    assert requested.status_code == 202 and requested.json()["status"] == "pending_approval"
    request_id = requested.json()["activation_id"]

    listed = get(running, "/auth/phone-requests", staff["secretary"]).json()["items"]
    assert request_id not in [i["id"] for i in listed]
    assert post(running, f"/auth/phone-requests/{request_id}/approve", token=staff["secretary"]).status_code == 404
    assert get(running, "/auth/recovery-requests", staff["secretary"]).status_code == 403
    refused = post(running, f"/auth/recovery-requests/{request_id}/approve", token=staff["secretary"])
    assert refused.status_code == 403
    # nor the administrator himself: nobody decides on their own request
    own = get(running, "/auth/recovery-requests", staff["admin"]).json()["items"]
    assert request_id not in [i["id"] for i in own]
    assert post(running, f"/auth/recovery-requests/{request_id}/approve", token=staff["admin"]).status_code == 404
    assert running.sms(taken) == []


def test_an_officer_editing_a_members_phone_does_not_redirect_reset_codes(running, staff):
    member = new_member(running, staff)
    taken = other_phone()
    edited = patch(running, f"/members/{member['id']}", {"phone": taken}, staff["secretary"])
    assert edited.status_code == 200, edited.text
    # the member is told on the phone and e-mail that were trusted before, with a "not me" code
    told = wait_for(lambda: notices(running, member["phone"]), message="the notice of a phone change")
    assert freeze_code(told[-1])
    assert wait_for(lambda: emails(running, member["email"]), message="the e-mail notice")

    reset = post(running, "/auth/password/forgot", {"citizen_id": member["citizen_id"]})
    assert reset.status_code == 202 and reset.json()["status"] == "code_sent"
    assert reset.json()["destination"] == masked(member["phone"])
    assert last_code(running, member["phone"])  # the code went to the trusted phone…
    assert running.sms(taken) == []  # …and nothing to the edited one
    # asking for the code at the edited phone needs an officer's confirmation like any new phone
    self_sent = post(running, "/auth/password/forgot", {"citizen_id": member["citizen_id"], "phone": taken})
    assert self_sent.status_code in (202, 429)
    assert running.sms(taken) == []


def test_a_stolen_access_token_cannot_make_its_phone_the_reset_channel(running, staff):
    member = new_member(running, staff)
    stolen = member["tokens"]["access_token"]
    taken = other_phone()
    assert patch(running, "/me", {"phone": taken}, stolen).status_code == 200
    wait_for(lambda: notices(running, member["phone"]), message="the notice of a phone change")
    reset = post(running, "/auth/password/forgot", {"citizen_id": member["citizen_id"]})
    assert reset.status_code == 202
    assert last_code(running, member["phone"])  # the code went to the trusted phone
    assert running.sms(taken) == []


def test_a_member_confirms_a_new_phone_with_its_code_and_the_current_password(running, staff):
    member = new_member(running, staff)
    token = member["tokens"]["access_token"]
    new_phone = other_phone()
    assert patch(running, "/me", {"phone": new_phone}, token).status_code == 200
    wait_for(lambda: notices(running, member["phone"]), message="the notice of the phone change in the record")
    started = post(running, "/me/phone-verification", {}, token)  # the phone now in the member record
    assert started.status_code == 202, started.text
    verification = started.json()
    assert verification["destination"] == masked(new_phone)
    code = last_code(running, new_phone)
    path = f"/me/phone-verification/{verification['id']}/verify"
    guessed = post(running, path, {"otp": code, "current_password": "not the password"}, token)
    assert guessed.status_code == 401 and error_code(guessed) == "invalid_credentials"
    confirmed = post(running, path, {"otp": code, "current_password": GOOD_PASSWORD}, token)
    assert confirmed.status_code == 200, confirmed.text
    assert post(running, path, {"otp": code, "current_password": GOOD_PASSWORD}, token).status_code == 400
    # the phone trusted before is told, and reset codes now go to the confirmed phone
    wait_for(lambda: len(notices(running, member["phone"])) == 2, message="the notice of a verified phone change")
    before = len(running.sms(new_phone))
    reset = post(running, "/auth/password/forgot", {"citizen_id": member["citizen_id"]})
    assert reset.status_code == 202 and reset.json()["status"] == "code_sent"
    wait_for(lambda: len(running.sms(new_phone)) == before + 1, message="the reset code to the confirmed phone")


def test_not_me_freezes_the_account_until_an_officer_releases_it(running, staff):
    member = new_member(running, staff)
    second = login(running.base, member["citizen_id"], GOOD_PASSWORD).json()
    patch(running, "/me", {"phone": other_phone()}, member["tokens"]["access_token"])
    notice = wait_for(lambda: notices(running, member["phone"]), message="the notice of a phone change")[-1]

    assert post(running, "/auth/freeze", {"code": "AAAAA-AAAAA"}).status_code == 400
    frozen = post(running, "/auth/freeze", {"code": freeze_code(notice).lower()})
    assert frozen.status_code == 200, frozen.text
    for tokens in (member["tokens"], second):  # every session ended
        assert post(running, "/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    refused = login(running.base, member["citizen_id"], GOOD_PASSWORD)
    assert refused.status_code == 403 and error_code(refused) == "account_frozen"
    before = len(running.sms(member["phone"]))
    reset = post(running, "/auth/password/forgot", {"citizen_id": member["citizen_id"]})
    assert reset.status_code == 202
    told = wait_for(lambda: running.sms(member["phone"])[before:], message="the SMS saying the account is frozen")
    assert "tạm khoá" in told[0]["text"] and not re.search(r"\b\d{6}\b", told[0]["text"])

    frozen_list = get(running, "/auth/frozen-accounts", staff["secretary"]).json()["items"]
    assert member["id"] in [i["member_id"] for i in frozen_list]
    assert post(running, f"/auth/frozen-accounts/{member['id']}/release", token=staff["secretary"]).status_code == 200
    assert login(running.base, member["citizen_id"], GOOD_PASSWORD).status_code == 200


def test_officers_recover_through_a_system_administrator(running, staff):
    officer = new_member(running, staff)
    appointed = post(
        running,
        f"/members/{officer['id']}/positions",
        {"organization_id": staff["branch"], "role": "deputy_secretary"},
        staff["admin"],
    )
    assert appointed.status_code == 200, appointed.text
    wait_for(
        lambda: holds_position_in_identity(running, officer["id"], staff["branch"], "deputy_secretary"),
        message="identity's projection of the position",
    )
    new_phone = other_phone()
    requested = post(running, "/auth/password/forgot", {"citizen_id": officer["citizen_id"], "phone": new_phone})
    request_id = requested.json()["activation_id"]

    secretary_sees = get(running, "/auth/phone-requests", staff["secretary"]).json()["items"]
    assert request_id not in [i["id"] for i in secretary_sees]
    assert post(running, f"/auth/phone-requests/{request_id}/approve", token=staff["secretary"]).status_code == 404
    pending = get(running, "/auth/recovery-requests", staff["admin"]).json()["items"]
    assert [i["member_id"] for i in pending if i["id"] == request_id] == [officer["id"]]
    approved = post(running, f"/auth/recovery-requests/{request_id}/approve", token=staff["admin"])
    assert approved.status_code == 200, approved.text
    done = post(
        running,
        f"/auth/password/forgot/{request_id}/verify",
        {"otp": last_code(running, new_phone), "new_password": "Một con ngựa đau cả tàu bỏ cỏ"},
    )
    assert done.status_code == 200, done.text
    # the reset is told to the phone and e-mail trusted before it
    wait_for(lambda: notices(running, officer["phone"]), message="the notice of a reset")
    assert post(running, f"/auth/recovery-requests/{request_id}/deny", token=staff["admin"]).status_code == 400


def test_a_secretary_cannot_approve_her_own_phone_request(running, staff):
    requested = post(
        running, "/auth/password/forgot", {"citizen_id": staff["secretary_citizen_id"], "phone": other_phone()}
    )
    request_id = requested.json()["activation_id"]
    assert request_id not in [i["id"] for i in get(running, "/auth/phone-requests", staff["secretary"]).json()["items"]]
    assert post(running, f"/auth/phone-requests/{request_id}/approve", token=staff["secretary"]).status_code == 404


def test_after_a_transfer_the_old_secretary_cannot_decide_and_the_new_one_can(running, staff):
    member = new_member(running, staff, activated=False)
    new_phone = other_phone()
    requested = post(running, "/auth/activation", {"citizen_id": member["citizen_id"], "phone": new_phone})
    request_id = requested.json()["activation_id"]
    assert request_id in [i["id"] for i in get(running, "/auth/phone-requests", staff["secretary"]).json()["items"]]

    # another province's branch, with a secretary of its own
    target = staff["factory"].branch()
    head = staff["factory"].officer(target)

    transfer = post(
        running, f"/members/{member['id']}/transfers", {"to_organization_id": target["id"]}, staff["secretary"]
    )
    assert transfer.status_code in (200, 201), transfer.text
    accepted = post(running, f"/transfers/{transfer.json()['id']}/accept", token=head["tokens"]["access_token"])
    assert accepted.status_code == 200, accepted.text
    new_secretary = head["tokens"]["access_token"]
    wait_for(
        lambda: request_id in [i["id"] for i in get(running, "/auth/phone-requests", new_secretary).json()["items"]],
        message="the request following the member",
    )
    assert request_id not in [i["id"] for i in get(running, "/auth/phone-requests", staff["secretary"]).json()["items"]]
    assert post(running, f"/auth/phone-requests/{request_id}/approve", token=staff["secretary"]).status_code == 404
    assert post(running, f"/auth/phone-requests/{request_id}/approve", token=new_secretary).status_code == 200
    assert last_code(running, new_phone)


def test_phone_requests_are_rate_limited_like_codes(running, staff):
    member = new_member(running, staff, activated=False)
    first = post(running, "/auth/activation", {"citizen_id": member["citizen_id"], "phone": other_phone()})
    assert first.status_code == 202 and first.json()["status"] == "pending_approval"
    for _ in range(3):
        again = post(running, "/auth/activation", {"citizen_id": member["citizen_id"], "phone": other_phone()})
        assert again.status_code == 429 and error_code(again) == "too_many_attempts"
        assert 1 <= int(again.headers["Retry-After"]) <= 60
