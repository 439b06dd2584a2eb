"""What a member does in the portal, in Chromium: sign in, the first sign-in with a code by SMS, waiting for the
branch, the throttle's countdown, an offline start; each screen photographed at phone and desktop size and
checked by axe-core (no serious or critical findings)."""

import re
import secrets

import pytest
import requests

from shared.demo import DEMO_PASSWORD
from tests.e2e.conftest import GOOD_PASSWORD, bearer, last_code, login
from tests.e2e.people import Factory, other_phone
from tests.support.browser import LARGE, SMALL

DEMO_MEMBER = "001000000002"
BOTH = pytest.mark.parametrize("viewport", [SMALL, LARGE], ids=["360x740", "1280x800"])


def full_name(running, citizen_id, password):
    token = login(running.base, citizen_id, password).json()["access_token"]
    return requests.get(f"{running.base}/me", headers=bearer(token), timeout=10).json()["full_name"]


def sign_in(page, citizen_id, password):
    page.fill("input[name=citizen_id]", citizen_id)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.fixture(scope="module")
def factory(running):
    return Factory(running)


@BOTH
def test_a_demo_member_signs_in_sees_their_full_name_and_stays_signed_in(running, origin, new_page, screens, viewport):
    name = full_name(running, DEMO_MEMBER, DEMO_PASSWORD)
    page = new_page(viewport)
    page.goto(origin + "/")
    page.wait_for_selector("input[name=citizen_id]")
    assert not screens.check(page, "sign-in")
    sign_in(page, DEMO_MEMBER, DEMO_PASSWORD)
    page.get_by_text(name).wait_for()
    assert not screens.check(page, "home")
    page.reload()  # the access token was in memory only: the refresh cookie brings the session back
    page.get_by_text(name).wait_for()
    kept = page.evaluate("() => Object.keys(localStorage)")
    assert set(kept) <= {"sotay.lang", "sotay.large", "sotay.contrast"}  # settings only, nothing personal

    page.click("a[href='#/notifications']")
    page.locator("h1", has_text="Thông báo").wait_for()
    assert not screens.check(page, "notifications")
    page.click("a[href='#/profile']")
    page.get_by_text("Các phiên đăng nhập").wait_for()
    assert not screens.check(page, "profile")

    others = page.get_by_role("button", name="Đăng xuất mọi thiết bị khác")
    if others.count():  # the sessions of the other tests' sign-ins as the demo member
        others.click()
        page.get_by_text("Đã đăng xuất các thiết bị khác.").wait_for()
        page.wait_for_function(  # the list again, with this session alone
            "() => ![...document.querySelectorAll('button')].some((b) => b.textContent === 'Đăng xuất phiên này')"
        )
    page.get_by_role("button", name="English").click()
    page.get_by_text("Signed-in sessions").wait_for()
    page.get_by_label("Large text").check()
    assert "large" in page.evaluate("() => document.documentElement.className")
    assert not screens.check(page, "profile-english-large")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("input[name=citizen_id]")
    page.reload()
    page.wait_for_selector("input[name=citizen_id]")  # no session comes back after signing out


def test_first_sign_in_with_the_code_sent_by_sms(running, origin, factory, new_page, screens):
    member = factory.member(factory.branch())
    page = new_page()
    page.goto(origin + "/#/activate")
    page.fill("input[name=citizen_id]", member["citizen_id"])
    assert not screens.both_sizes(page, "first-sign-in")
    page.click("button[type=submit]")
    page.wait_for_selector("input[name=otp]")
    page.fill("input[name=otp]", last_code(running, member["phone"]))
    page.fill("input[name=new_password]", "short")
    page.get_by_text("còn thiếu 3").wait_for()  # the policy's reason, shown while typing
    assert not screens.check(page, "first-sign-in-code")
    page.fill("input[name=new_password]", "matkhau123")
    page.click("button[type=submit]")
    page.get_by_text("Mật khẩu này quá phổ biến, dễ bị đoán.").wait_for()  # the server's reason, in Vietnamese
    page.fill("input[name=new_password]", GOOD_PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text(member["full_name"]).wait_for()


@BOTH
def test_the_same_neutral_screen_whether_or_not_the_citizen_id_is_a_members(
    origin, factory, new_page, screens, viewport
):
    member = factory.member(factory.branch())
    texts = []
    stranger = f"0019{secrets.randbelow(10**8):08d}"  # a range no factory or seed uses
    for citizen_id in (member["citizen_id"], stranger):
        page = new_page(viewport)
        page.goto(origin + "/#/activate")
        page.fill("input[name=citizen_id]", citizen_id)
        page.click("button[type=submit]")
        page.wait_for_selector("input[name=otp]")
        page.locator(".reasons .rule").first.wait_for()  # the policy's rules, fetched
        texts.append(re.sub(r"\+84\S+", "…", page.locator("main").inner_text()))
    assert texts[0] == texts[1]
    assert not screens.check(page, "first-sign-in-code")


@BOTH
def test_without_a_phone_on_record_the_member_waits_for_the_branch_then_signs_in(
    running, origin, factory, new_page, screens, viewport
):
    branch = factory.branch()
    secretary = factory.officer(branch)
    member = factory.member(branch, phone=False)
    phone = other_phone()
    page = new_page(viewport)
    page.goto(origin + "/#/activate")
    page.fill("input[name=citizen_id]", member["citizen_id"])
    page.get_by_text("Hồ sơ của tôi chưa có số điện thoại").click()
    page.fill("input[name=phone]", phone)
    page.click("button[type=submit]")
    page.get_by_text("Đang chờ chi bộ xác nhận").wait_for()
    page.get_by_text("mã gồm 6 chữ số sẽ được gửi").wait_for()
    assert not screens.check(page, "pending-approval")
    page.get_by_role("button", name="Kiểm tra lại").click()
    page.get_by_text("Chưa có xác nhận").wait_for()

    # the secretary, in a browser of her own, confirms the phone on her approvals screen
    approving = new_page(viewport)
    approving.goto(origin + "/")
    sign_in(approving, secretary["citizen_id"], GOOD_PASSWORD)
    approving.get_by_text(secretary["full_name"]).wait_for()
    approving.get_by_role("link", name="Cấp uỷ").click()
    approving.get_by_role("button", name="Chờ duyệt").click()
    approving.get_by_role("button", name=f"Xác nhận: {member['full_name']}").click()
    approving.get_by_text("Đã xác nhận; mã được gửi tới số đó.").wait_for()

    page.get_by_role("button", name="Kiểm tra lại").click()
    page.fill("input[name=otp]", last_code(running, phone))
    page.fill("input[name=new_password]", GOOD_PASSWORD)
    page.click("button[type=submit]")
    page.get_by_text(member["full_name"]).wait_for()


def test_vneid_from_the_portal_comes_back_signed_in(origin, factory, new_page):
    member = factory.member(factory.branch())
    page = new_page(SMALL)
    page.goto(origin + "/")
    page.get_by_role("link", name="Đăng nhập bằng VNeID").click()
    page.wait_for_selector("input[name=citizen_id]")  # the development provider's page (tools/vneid_idp.py)
    page.fill("input[name=citizen_id]", member["citizen_id"])
    page.locator("form button, form input[type=submit]").first.click()
    page.get_by_text(member["full_name"]).wait_for()
    assert page.url.endswith("#/home")


@BOTH
def test_forgotten_password_screen(origin, new_page, screens, viewport):
    page = new_page(viewport)
    page.goto(origin + "/")
    page.click("a[href='#/forgot']")
    page.locator("h1", has_text="Quên mật khẩu").wait_for()
    assert not screens.check(page, "forgotten-password")


def test_throttling_is_a_countdown_not_an_error(running, origin, factory, new_page, screens):
    member = factory.member(factory.branch(), activated=True)
    for _ in range(5):  # identity's free failures
        assert login(running.base, member["citizen_id"], "not the password").status_code == 401
    page = new_page(SMALL)
    page.goto(origin + "/")
    sign_in(page, member["citizen_id"], "still not the password")
    timer = page.get_by_role("timer")
    timer.wait_for()
    seconds = int(re.search(r"(\d+) giây", timer.inner_text()).group(1))
    assert 0 < seconds <= 30
    assert page.locator("button[type=submit]").is_disabled()
    page.wait_for_function(
        "(start) => { const m = document.querySelector('[role=timer]').textContent.match(/(\\d+) giây/);"
        " return m && Number(m[1]) < start; }",
        arg=seconds,
    )
    assert not page.locator("[role=alert]").is_visible()  # a wait, not an error
    assert not screens.both_sizes(page, "throttled")


def test_the_shell_loads_offline(origin, new_page):
    page = new_page(SMALL)
    page.goto(origin + "/")
    page.wait_for_selector("input[name=citizen_id]")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready")
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    page.reload()  # the worker controls the page from here on
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("input[name=citizen_id]")
    assert page.locator("button[type=submit]").is_visible()
