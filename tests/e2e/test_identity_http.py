"""Every way a member signs in, and the account rules, as a client sees them over HTTP."""

import pytest
import requests

from tests.e2e.conftest import GOOD_PASSWORD, bearer, error_code, last_code, login, post
from tests.e2e.people import Factory, masked
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(running):
    """A branch of its own (in a province in pilot) with its secretary."""
    factory = Factory(running)
    branch = factory.branch()
    return {"factory": factory, "branch": branch, "secretary": factory.officer(branch)}


def member_of(world, **fields):
    return world["factory"].member(world["branch"], **fields)


def test_first_sign_in_with_a_phone_on_record(running, world):
    member = member_of(world)
    citizen_id, phone = member["citizen_id"], member["phone"]
    assert error_code(login(running.base, citizen_id, "anything")) == "invalid_credentials"  # as a stranger
    started = post(running, "/auth/activation", {"citizen_id": citizen_id})
    assert started.status_code == 202
    answer = started.json()
    assert answer["status"] == "code_sent" and answer["channel"] == "sms"
    assert answer["destination"] == masked(phone)  # never the whole number
    code = last_code(running, phone)
    sms = running.sms(phone)[-1]
    assert "mã kích hoạt" in sms["text"] and sms["sent_at"]
    verify = f"/auth/activation/{answer['activation_id']}/verify"

    weak = post(running, verify, {"otp": code, "new_password": "matkhau123"})
    assert weak.status_code == 400 and error_code(weak) == "weak_password"
    wrong = post(running, verify, {"otp": f"{(int(code) + 1) % 1_000_000:06d}", "new_password": GOOD_PASSWORD})
    assert error_code(wrong) == "invalid_code" and wrong.json()["error"]["details"]["attempts_left"] == 4

    done = post(running, verify, {"otp": code, "new_password": GOOD_PASSWORD})  # the weak try spent nothing
    assert done.status_code == 200
    me = requests.get(f"{running.base}/me", headers=bearer(done.json()["access_token"]), timeout=10).json()
    assert me["citizen_id"] == citizen_id
    replay = post(running, verify, {"otp": code, "new_password": GOOD_PASSWORD + "!"})
    assert error_code(replay) == "invalid_code"
    assert login(running.base, citizen_id, GOOD_PASSWORD).status_code == 200


def test_first_sign_in_without_a_phone_waits_for_the_branch_secretary(running, world):
    phoneless = member_of(world, phone=False)
    started = post(running, "/auth/activation", {"citizen_id": phoneless["citizen_id"], "phone": "0987 654 321"})
    assert started.status_code == 202 and started.json()["status"] == "pending_approval"
    request_id = started.json()["activation_id"]
    assert running.sms("+84987654321") == []  # nothing goes to an unconfirmed phone
    early = post(running, f"/auth/activation/{request_id}/verify", {"otp": "123456", "new_password": GOOD_PASSWORD})
    assert early.status_code == 409 and error_code(early) == "pending_approval"

    member = member_of(world, activated=True)["token"]
    listed = requests.get(f"{running.base}/auth/phone-requests", headers=bearer(member), timeout=10).json()
    assert listed["items"] == []  # an ordinary member confirms nothing
    assert post(running, f"/auth/phone-requests/{request_id}/approve", token=member).status_code == 404

    secretary = world["secretary"]["token"]
    pending = requests.get(f"{running.base}/auth/phone-requests", headers=bearer(secretary), timeout=10).json()
    assert [(i["full_name"], i["phone"]) for i in pending["items"] if i["id"] == request_id] == [
        (phoneless["full_name"], "+84987654321")
    ]
    assert post(running, f"/auth/phone-requests/{request_id}/approve", token=secretary).status_code == 200
    status = requests.get(f"{running.base}/auth/activation/{request_id}", timeout=10).json()
    assert status["status"] == "code_sent"
    done = post(
        running,
        f"/auth/activation/{request_id}/verify",
        {"otp": last_code(running, "+84987654321"), "new_password": GOOD_PASSWORD},
    )
    assert done.status_code == 200


def test_an_unknown_citizen_gets_the_same_kind_of_answer_and_nothing_is_sent(running):
    before = len(running.sms())
    unknown = post(running, "/auth/activation", {"citizen_id": "009999999999"})
    assert unknown.status_code == 202
    assert set(unknown.json()) == {"activation_id", "status", "channel", "destination"}
    assert len(running.sms()) == before


def test_members_of_a_committee_not_rolled_out_are_told_by_sms_not_on_screen(running, world):
    member = world["factory"].member(world["factory"].branch(rollout="disabled"))
    waiting = post(running, "/auth/activation", {"citizen_id": member["citizen_id"]})
    assert waiting.status_code == 202 and waiting.json()["status"] == "code_sent"  # the neutral answer
    told = wait_for(lambda: running.sms(member["phone"]), message="the SMS saying Sổ tay is not there yet")
    assert "chưa triển khai" in told[-1]["text"]
    code = post(
        running,
        f"/auth/activation/{waiting.json()['activation_id']}/verify",
        {"otp": "123456", "new_password": GOOD_PASSWORD},
    )
    assert error_code(code) == "invalid_code"  # no code was sent, none works


def test_a_new_code_no_sooner_than_60_seconds(running, world):
    citizen_id = member_of(world)["citizen_id"]
    assert post(running, "/auth/activation", {"citizen_id": citizen_id}).status_code == 202
    again = post(running, "/auth/activation", {"citizen_id": citizen_id})
    assert again.status_code == 429 and error_code(again) == "too_many_attempts"
    assert 50 <= int(again.headers["Retry-After"]) <= 60


def test_five_wrong_codes_end_the_challenge(running, world):
    member = member_of(world)
    answer = post(running, "/auth/activation", {"citizen_id": member["citizen_id"]}).json()
    code = last_code(running, member["phone"])
    verify = f"/auth/activation/{answer['activation_id']}/verify"
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for left in (4, 3, 2, 1, 0):
        response = post(running, verify, {"otp": wrong, "new_password": GOOD_PASSWORD})
        assert response.json()["error"]["details"]["attempts_left"] == left
    locked = post(running, verify, {"otp": code, "new_password": GOOD_PASSWORD})  # even the right code now
    assert locked.status_code == 429


def test_sign_in_throttling_is_the_same_for_known_and_unknown_citizen_ids(running, world):
    known = member_of(world, activated=True)["citizen_id"]
    for citizen_id in (known, "009999999998"):
        codes = [error_code(login(running.base, citizen_id, "wrong password")) for _ in range(5)]
        assert codes == ["invalid_credentials"] * 5
        sixth = login(running.base, citizen_id, "wrong password")
        assert sixth.status_code == 429 and error_code(sixth) == "too_many_attempts"
        assert 1 <= int(sixth.headers["Retry-After"]) <= 30
    # locked out even with the right password, until the delay passes
    assert login(running.base, known, GOOD_PASSWORD).status_code == 429


def test_forgotten_password_with_a_changed_phone_and_then_with_the_phone_on_record(running, world):
    member = member_of(world, activated=True)
    citizen_id = member["citizen_id"]
    changed = post(running, "/auth/password/forgot", {"citizen_id": citizen_id, "phone": "+84 977 000 111"})
    assert changed.json()["status"] == "pending_approval"
    elsewhere = world["factory"].branch()
    secretary = world["factory"].officer(elsewhere)["token"]
    other_subtree = requests.get(f"{running.base}/auth/phone-requests", headers=bearer(secretary), timeout=10)
    assert all(i["id"] != changed.json()["activation_id"] for i in other_subtree.json()["items"])
    admin = world["factory"].admin
    assert post(running, f"/auth/phone-requests/{changed.json()['activation_id']}/deny", token=admin).status_code == 200
    assert "chưa xác nhận" in running.sms("+84977000111")[-1]["text"]  # the requester is told

    reset = post(running, "/auth/password/forgot", {"citizen_id": citizen_id})
    assert reset.status_code == 202 and reset.json()["status"] == "code_sent"
    new_password = "Trăng rằm tháng tám 1945"
    done = post(
        running,
        f"/auth/password/forgot/{reset.json()['activation_id']}/verify",
        {"otp": last_code(running, member["phone"]), "new_password": new_password},
    )
    assert done.status_code == 200
    assert login(running.base, citizen_id, new_password).status_code == 200
    stale = post(running, "/auth/refresh", {"refresh_token": member["tokens"]["refresh_token"]})
    assert stale.status_code == 401  # a reset ends every earlier session


def test_password_change_and_sessions(running, world):
    member = member_of(world, activated=True)
    first = member["tokens"]
    second = login(running.base, member["citizen_id"], GOOD_PASSWORD).json()
    sessions = requests.get(f"{running.base}/me/sessions", headers=bearer(second["access_token"]), timeout=10).json()
    assert len(sessions["items"]) == 2 and sum(s["current"] for s in sessions["items"]) == 1

    token = second["access_token"]
    wrong = post(running, "/auth/password", {"current_password": "nope", "new_password": "x" * 20}, token=token)
    assert wrong.status_code == 401
    weak = post(
        running,
        "/auth/password",
        {"current_password": GOOD_PASSWORD, "new_password": member["citizen_id"]},
        token=token,
    )
    assert error_code(weak) == "weak_password"
    changed = post(
        running,
        "/auth/password",
        {"current_password": GOOD_PASSWORD, "new_password": "Đường lên đỉnh Trường Sơn"},
        token=token,
    )
    assert changed.status_code == 200
    assert post(running, "/auth/refresh", {"refresh_token": first["refresh_token"]}).status_code == 401
    assert post(running, "/auth/refresh", {"refresh_token": second["refresh_token"]}).status_code == 200

    third = login(running.base, member["citizen_id"], "Đường lên đỉnh Trường Sơn").json()
    listed = requests.get(f"{running.base}/me/sessions", headers=bearer(token), timeout=10).json()["items"]
    other = next(s["id"] for s in listed if not s["current"])
    revoked = requests.delete(f"{running.base}/me/sessions/{other}", headers=bearer(token), timeout=10)
    assert revoked.status_code == 200
    assert post(running, "/auth/refresh", {"refresh_token": third["refresh_token"]}).status_code == 401
    assert requests.delete(f"{running.base}/me/sessions/not-mine", headers=bearer(token), timeout=10).status_code == 404


def test_identity_publishes_activation_password_and_lock_events(running, world):
    import json as jsonlib

    import pika

    connection = pika.BlockingConnection(pika.URLParameters(running.amqp_uri))
    channel = connection.channel()
    channel.queue_declare("e2e.identity-events", exclusive=True)
    channel.queue_bind("e2e.identity-events", "identity.events", routing_key="identity.#")

    member = member_of(world, activated=True)
    post(
        running,
        "/auth/password",
        {"current_password": GOOD_PASSWORD, "new_password": "Sông Hồng chảy mãi"},
        token=member["token"],
    )
    for _ in range(5):
        login(running.base, member["citizen_id"], "wrong password")

    seen = {}

    def collect():
        while True:
            method, _, body = channel.basic_get("e2e.identity-events", auto_ack=True)
            if method is None:
                break
            event = jsonlib.loads(body)
            seen[event["type"]] = event["payload"]
        return len(seen) == 3

    wait_for(collect, message="three identity events")
    assert set(seen["identity.account_activated"]) == {"member_id", "method"}  # no citizen ID: nobody needs it
    assert seen["identity.account_activated"]["method"] == "sms"
    member_id = seen["identity.account_activated"]["member_id"]
    assert seen["identity.password_changed"] == {"member_id": member_id}
    assert seen["identity.login_locked"]["member_id"] == member_id
    connection.close()
