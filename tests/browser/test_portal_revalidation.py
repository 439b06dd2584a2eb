"""The portal's reads of GET /me revalidate (issue 14, item 2): Chromium keeps the answer (`ETag`, `private,
no-cache`) and sends `If-None-Match` by itself on every later read — the service worker leaves `/api/` alone — so
the gateway can answer 304 without asking members; a change made meanwhile still shows. A running meeting's
screen looks with GET /meetings/{id} alone while its version holds (bench/CAPACITY.md, "The screen revalidated")."""

import pytest

from tests.browser.test_portal_member import by_secretary, signed_in
from tests.e2e.meeting_people import branch_with_members, schedule
from tests.e2e.people import Factory, patch
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def member(running):
    factory = Factory(running)
    return factory.member(factory.branch(), activated=True), factory


def test_the_portal_revalidates_the_members_record_and_still_sees_a_change(running, origin, new_page, member):
    member, factory = member
    page = new_page()
    reads = []
    page.on(
        "response",
        lambda response: (
            response.url.endswith("/api/v1/me") and reads.append(response.request.all_headers().get("if-none-match"))
        ),
    )
    signed_in(page, origin, member)
    first_load = len(reads)
    page.reload()
    page.get_by_text(member["full_name"]).wait_for()
    assert reads[0] is None and len(reads) > first_load
    assert all(tag and tag.startswith('W/"') for tag in reads[first_load:])  # the reload's reads revalidate

    changed = patch(running, f"/members/{member['id']}", {"full_name": "Tên Mới Đã Đổi"}, factory.admin)
    assert changed.status_code == 200, changed.text
    old, new = page.get_by_text(member["full_name"]), page.get_by_text("Tên Mới Đã Đổi")

    def shows_the_change():
        page.reload()
        old.or_(new).first.wait_for()  # the home screen with whichever record the gateway relayed
        return new.count() > 0

    # members' event reaches the gateway: the next revalidation is a 200 with the new record
    wait_for(shows_the_change, timeout=15, interval=0.2, message="the portal to show the officer's change")


def test_a_running_meetings_screen_looks_with_one_conditional_read_and_shows_a_vote_opened(running, origin, new_page):
    people = branch_with_members(running)
    meeting = schedule(running, people, title="Họp chi bộ đang diễn ra")
    by_secretary(running, people, f"/meetings/{meeting['id']}/start")
    page = new_page()
    page.add_init_script("globalThis.SOTAY_LOOK_EVERY_MS = 500")  # a look every half second, not every 15
    path = f"/api/v1/meetings/{meeting['id']}"
    looks, others = [], []

    def seen(response):
        url = response.url.split("?")[0]
        if url.endswith(path):
            looks.append(response.request.all_headers().get("if-none-match"))
        elif url.startswith(origin + path + "/"):
            others.append(url)

    page.on("response", seen)
    signed_in(page, origin, people["member"], f"meeting/{meeting['id']}")
    page.locator("h1", has_text="Họp chi bộ đang diễn ra").wait_for()
    assert len(others) == 3  # the first look reads votes, minutes and opinions beside the meeting
    first = len(looks)
    for _ in range(3):
        with page.expect_response(lambda response: response.url.endswith(path), timeout=10000):
            pass
    assert all(tag and tag.startswith('W/"') for tag in looks[first:])  # revalidated by the browser's cache
    assert len(others) == 3  # nothing changed: nothing else read

    by_secretary(running, people, f"/meetings/{meeting['id']}/votes", {"question": "Thông qua nghị quyết tháng"})
    page.get_by_text("Thông qua nghị quyết tháng").wait_for(timeout=10000)  # meetings.meeting_updated, next look
    assert len(others) >= 6
