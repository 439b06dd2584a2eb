"""Web Push from the profile: where this deployment sends it (notify's VAPID key) the member turns it on for the
device and the browser's subscription reaches POST /me/devices. Chromium here reaches no push service, so the
browser's side (permission, PushManager.subscribe) is stood in for; the key and the registration are the API's."""

import json

from shared.demo import DEMO_PASSWORD
from tests.browser.test_portal import DEMO_MEMBER, sign_in
from tests.support.browser import SMALL

# an uncompressed P-256 point, as GET /me/push-key gives it (what the page turns into bytes for subscribe)
KEY = "BH3RfDHOFGIDLHVg5OPZMzPQ7jqCDbhSeK4YZWUSzy0kctkJ9I79UtmZ6rGg-AgspvmxhIRupQxugcUtUEKJJf8"
STAND_IN = """
Notification.requestPermission = async () => "granted";
PushManager.prototype.getSubscription = async () => null;
PushManager.prototype.subscribe = async function (options) {
  window.subscribedWith = Array.from(new Uint8Array(options.applicationServerKey)).length;
  return { toJSON: () => ({ endpoint: "https://push.example.org/send/abc", keys: { p256dh: "p", auth: "a" } }) };
};
"""


def test_a_member_turns_push_notifications_on_for_this_device(running, origin, new_page, screens):
    page = new_page(SMALL)
    page.add_init_script(STAND_IN)
    registered = []
    page.route("**/api/v1/me/push-key", lambda route: route.fulfill(json={"key": KEY}))

    def device(route):
        registered.append(json.loads(route.request.post_data))
        route.continue_()

    page.route("**/api/v1/me/devices", device)
    page.goto(origin + "/")
    sign_in(page, DEMO_MEMBER, DEMO_PASSWORD)
    page.click("a[href='#/profile']")
    page.get_by_role("button", name="Nhận thông báo trên thiết bị này").click()
    page.get_by_text("Đã bật thông báo trên thiết bị này.").wait_for()
    assert not screens.both_sizes(page, "profile-push")
    assert page.evaluate("() => window.subscribedWith") == 65  # the key's bytes: 0x04, x, y
    assert registered[0]["platform"] == "web"
    assert json.loads(registered[0]["token"])["endpoint"] == "https://push.example.org/send/abc"


def test_without_web_push_here_the_profile_offers_none(running, origin, new_page):
    page = new_page(SMALL)
    page.goto(origin + "/")
    sign_in(page, DEMO_MEMBER, DEMO_PASSWORD)
    page.click("a[href='#/profile']")
    page.get_by_text("Các phiên đăng nhập").wait_for()
    assert page.get_by_role("button", name="Nhận thông báo trên thiết bị này").count() == 0
