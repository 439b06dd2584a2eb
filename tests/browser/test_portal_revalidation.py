"""The portal's reads of GET /me revalidate (issue 14, item 2): Chromium keeps the answer (`ETag`, `private,
no-cache`) and sends `If-None-Match` by itself on every later read — the service worker leaves `/api/` alone — so
the gateway can answer 304 without asking members; a change made meanwhile still shows."""

import pytest

from tests.browser.test_portal_member import signed_in
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
