"""A member's meetings, documents and notebook in the portal, in Chromium: answering an invitation, checking in
by the code, opinions, a ballot, the results and the minutes; reading, bookmarking, a quiz, search without
diacritics, a saved document read with the network cut; a note written offline sent when the connection returns.
The secretary's side (the check-in code, votes, minutes, documents) goes over the API. Each new screen is
photographed and checked by axe-core."""

import secrets

import pytest
import requests

from tests.browser.test_portal import sign_in
from tests.e2e.conftest import GOOD_PASSWORD, bearer, post
from tests.e2e.meeting_people import branch_with_members, schedule
from tests.e2e.people import Factory, put
from tests.e2e.test_content_http import document, holds_position_in_content, known_to_content, published, upload
from tests.support import samples
from tests.support.browser import SMALL


@pytest.fixture(scope="module")
def factory(running):
    return Factory(running)


@pytest.fixture(scope="module")
def people(running, factory):
    """A branch whose secretary may publish to it and run its meetings, and an activated member."""
    people = branch_with_members(running, factory)
    holds_position_in_content(running, known_to_content(running, people["secretary"]), people["branch"])
    known_to_content(running, people["member"])
    return people


def by_secretary(running, people, path, body=None):
    answer = post(running, path, body, people["secretary"]["token"])
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def signed_in(page, origin, member, screen=""):
    page.goto(origin + "/")
    sign_in(page, member["citizen_id"], GOOD_PASSWORD)
    page.get_by_text(member["full_name"]).wait_for()
    if screen:
        page.goto(f"{origin}/#/{screen}")


def looks_right(page, screens, name):
    """The screen at desktop and phone size: photographed, and no serious or critical axe-core finding."""
    assert not screens.both_sizes(page, name)


def test_a_member_answers_checks_in_gives_an_opinion_votes_and_reads_the_results_and_minutes(
    running, origin, people, new_page, screens
):
    writer = {"secretary": people["secretary"], "branch": people["branch"]}
    paper = published(writer, running, title="Báo cáo công tác tháng 11")
    title = f"Sinh hoạt chi bộ {secrets.token_hex(3)}"
    agenda = [{"title": "Kiểm điểm công tác tháng", "document_ids": [paper["id"]]}]
    meeting = schedule(running, people, title=title, agenda=agenda)
    item = meeting["agenda"][0]["id"]
    page = new_page(SMALL)
    signed_in(page, origin, people["member"])
    page.get_by_role("link", name=title).click()  # home's next meeting
    page.locator("h1", has_text=title).wait_for()
    page.get_by_role("link", name="← Các cuộc họp").click()
    page.get_by_role("link", name=title).wait_for()
    looks_right(page, screens, "meetings")
    page.get_by_role("link", name=title).click()
    page.locator("h1", has_text=title).wait_for()
    page.get_by_role("link", name="Báo cáo công tác tháng 11").click()  # the paper, read through the meeting
    page.locator("h1", has_text="Báo cáo công tác tháng 11").wait_for()
    page.get_by_role("link", name="← Cuộc họp").click()
    page.locator("h1", has_text=title).wait_for()

    page.get_by_label("Tôi vắng mặt").check()
    page.get_by_role("button", name="Gửi câu trả lời").click()
    page.get_by_text("Cần lý do vắng mặt.", exact=False).wait_for()  # the server's reason, in Vietnamese
    page.get_by_label("Lý do vắng mặt").fill("Đi công tác")
    page.get_by_role("button", name="Gửi câu trả lời").click()
    page.get_by_text("Bạn báo vắng: Đi công tác").wait_for()
    page.get_by_label("Tôi sẽ tham dự").check()  # changeable until the start
    page.get_by_role("button", name="Đổi câu trả lời").click()
    page.get_by_text("Bạn sẽ tham dự.").wait_for()
    looks_right(page, screens, "meeting")

    secretary = bearer(people["secretary"]["token"])
    code = requests.get(f"{running.base}/meetings/{meeting['id']}/check-in-code", headers=secretary, timeout=10)
    code = code.json()["code"]
    scanning = page.evaluate("() => 'BarcodeDetector' in window")
    assert page.get_by_role("button", name="Quét mã QR bằng camera").count() == int(scanning)  # hidden if unsupported
    page.get_by_label("Mã điểm danh", exact=False).fill(code)
    page.get_by_role("button", name="Điểm danh", exact=True).click()
    page.get_by_text("Đã điểm danh lúc", exact=False).wait_for()

    opinion = page.locator(f"#o-{item}-new")
    opinion.fill("Đề nghị bổ sung chỉ tiêu kết nạp đảng viên mới.")
    page.locator(f"form:has(#o-{item}-new) button").click()
    page.get_by_text("Đề nghị bổ sung chỉ tiêu kết nạp đảng viên mới.").wait_for()
    page.get_by_role("button", name="Sửa").click()  # within 5 minutes of writing it
    page.get_by_label("Sửa ý kiến (trong 5 phút)").fill("Đề nghị bổ sung chỉ tiêu kết nạp hai đảng viên mới.")
    page.get_by_role("button", name="Lưu").click()
    page.get_by_text("Đề nghị bổ sung chỉ tiêu kết nạp hai đảng viên mới.").wait_for()
    page.locator(".meta", has_text="đã sửa").wait_for()

    # an opinion written with the network cut waits on the phone and goes when the connection returns
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.locator("#o-general-new").fill("Viết khi mất sóng ở hội trường.")
    page.locator("form:has(#o-general-new) button").click()
    page.get_by_text("Đã lưu trên máy, sẽ gửi khi có mạng.").wait_for()
    page.get_by_text("Chờ gửi khi có mạng").wait_for()
    page.context.set_offline(False)
    page.get_by_text("Chờ gửi khi có mạng").wait_for(state="detached")
    page.get_by_text("Viết khi mất sóng ở hội trường.").wait_for()

    by_secretary(running, people, f"/meetings/{meeting['id']}/start")
    vote = by_secretary(running, people, f"/meetings/{meeting['id']}/votes", {"question": "Thông qua báo cáo tháng"})
    page.reload()
    page.get_by_text("Thông qua báo cáo tháng").wait_for()
    page.get_by_label("Tán thành", exact=True).check()
    page.get_by_role("button", name="Bỏ phiếu").click()
    page.get_by_text("Bạn đã bỏ phiếu.", exact=False).wait_for()

    by_secretary(running, people, f"/votes/{vote['id']}/close")
    results = page.get_by_role("table", name="Kết quả biểu quyết")
    results.wait_for(timeout=40000)  # while the meeting runs, its screen looks again by itself
    assert results.get_by_role("row", name="Tán thành 1").is_visible()
    by_secretary(running, people, f"/meetings/{meeting['id']}/close")
    minutes = {"body": "Chi bộ thống nhất báo cáo công tác tháng.", "resolutions": ["Kết nạp hai đảng viên mới"]}
    by_secretary(running, people, f"/meetings/{meeting['id']}/minutes", minutes)
    page.reload()
    results = page.get_by_role("table", name="Kết quả biểu quyết")
    results.wait_for()
    assert results.get_by_role("row", name="Tán thành 1").is_visible()
    page.get_by_text("Chi bộ thống nhất báo cáo công tác tháng.").wait_for()
    assert page.get_by_text("Kết nạp hai đảng viên mới", exact=True).is_visible()
    # a closed meeting's invitation is history: the answer given, no form asking it again
    assert page.get_by_text("Bạn sẽ tham dự.").is_visible()
    assert page.get_by_text("Bạn có tham dự không?").count() == 0
    looks_right(page, screens, "meeting-closed")


def test_a_member_finds_a_document_without_diacritics_reads_saves_passes_its_quiz_and_reads_it_offline(
    running, origin, people, new_page, screens
):
    writer = {"secretary": people["secretary"], "branch": people["branch"]}
    word = secrets.token_hex(3)
    title = f"Nghị quyết về xây dựng Đảng {word}"
    body = "## Nội dung\n\nTăng cường **xây dựng, chỉnh đốn** Đảng.\n\n<script>alert(1)</script>"
    draft = document(writer, running, category="study", study=True, title=title, body=body)
    added = upload(running, draft["id"], samples.pdf(), "nghi-quyet.pdf", people["secretary"]["token"])
    assert added.status_code == 201, added.text
    by_secretary(running, people, f"/documents/{draft['id']}/publish")
    quiz = {
        "questions": [
            {"text": "Đại hội lần thứ mấy?", "options": ["XIII", "XIV"], "correct": [1]},
            {"text": "Nguyên tắc?", "options": ["Tập trung dân chủ", "Tự phê bình", "Tuỳ ý"], "correct": [0, 1]},
        ],
        "pass_mark": 1,
        "max_attempts": 3,
    }
    assert put(running, f"/documents/{draft['id']}/quiz", quiz, people["secretary"]["token"]).status_code == 200

    page = new_page(SMALL)
    signed_in(page, origin, people["member"])
    page.get_by_role("link", name="Đọc tài liệu chưa đọc").click()  # from home
    page.get_by_role("link", name=title).wait_for()
    page.get_by_label("Tìm trong tài liệu", exact=False).fill(f"xay dung dang {word}")  # no diacritics
    page.get_by_role("button", name="Tìm").click()
    page.get_by_role("link", name=title).wait_for()
    looks_right(page, screens, "documents")
    page.get_by_role("link", name=title).click()
    page.locator("h1", has_text=title).wait_for()
    assert page.locator("article strong", has_text="xây dựng, chỉnh đốn").is_visible()
    assert page.locator("article script").count() == 0

    page.get_by_role("button", name="Tôi đã đọc xong").click()
    page.get_by_text("Bạn đã đọc tài liệu này.").wait_for()
    page.get_by_role("button", name="Lưu tài liệu").click()
    page.get_by_role("button", name="Đã lưu (bấm để bỏ lưu)").wait_for()
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Tải về nghi-quyet.pdf").click()
    assert downloaded.value.suggested_filename == "nghi-quyet.pdf"

    # one right answer: radio buttons; several: checkboxes, and the member is told to choose them all
    first, second = page.locator("fieldset").nth(0), page.locator("fieldset").nth(1)
    assert first.get_by_role("radio").count() == 2 and not first.get_by_role("checkbox").count()
    assert first.get_by_text("Chọn một đáp án.").is_visible()
    assert second.get_by_role("checkbox").count() == 3 and not second.get_by_role("radio").count()
    assert second.get_by_text("Chọn tất cả đáp án đúng.").is_visible()
    looks_right(page, screens, "document-quiz")
    page.get_by_label("XIV").check()
    page.get_by_label("XIII").check()  # the other option of a one-answer question: XIV is no longer chosen
    assert not page.get_by_label("XIV").is_checked()
    page.get_by_label("Tập trung dân chủ").check()  # wrong: one of two, not passed, an attempt fewer
    page.get_by_role("button", name="Nộp bài").click()
    page.get_by_text("Đã làm 1 trên 3 lần.", exact=False).wait_for()
    page.get_by_label("XIV").check()
    page.get_by_label("Tập trung dân chủ").check()
    page.get_by_label("Tự phê bình").check()
    page.get_by_role("button", name="Nộp bài").click()
    page.get_by_text("Bạn đã đạt", exact=False).wait_for()
    looks_right(page, screens, "document")

    page.get_by_role("link", name="Ghi chú về tài liệu này").click()  # a note about it
    page.get_by_text(f"Về tài liệu: {title}").wait_for()
    page.get_by_label("Tiêu đề").fill(f"Ghi nhớ {word}")
    page.get_by_role("button", name="Lưu ghi chú").click()
    note = page.locator(".notes li", has_text=f"Ghi nhớ {word}")
    note.get_by_role("link", name="Tài liệu liên quan").click()
    page.locator("h1", has_text=title).wait_for()

    page.goto(f"{origin}/#/documents/bookmarked")
    page.get_by_role("link", name=title).wait_for()  # among the saved ones

    # the network cut: the saved document still opens, after a restart of the app too
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.goto(f"{origin}/#/document/{draft['id']}")
    page.reload()
    page.locator("h1", has_text=title).wait_for()
    page.get_by_text("Không có mạng: bản lưu trên máy.").wait_for()
    assert page.locator("article strong", has_text="xây dựng, chỉnh đốn").is_visible()
    looks_right(page, screens, "document-offline")
    page.context.set_offline(False)

    page.goto(f"{origin}/#/profile")
    page.get_by_role("button", name="Đăng xuất", exact=True).click()
    page.wait_for_selector("input[name=citizen_id]")
    assert not page.evaluate("() => caches.has('sotay-mine')")  # nothing kept after signing out


def test_a_note_written_offline_is_kept_and_sent_when_the_connection_returns(
    running, origin, people, new_page, screens
):
    member = people["member"]
    page = new_page(SMALL)
    signed_in(page, origin, member, "notebook")
    page.get_by_role("heading", name="Ghi chú mới").wait_for()
    page.get_by_label("Tiêu đề").fill("Ý kiến chuẩn bị họp")
    page.get_by_label("Nội dung").fill("Hỏi về kế hoạch học tập quý I.")
    page.get_by_role("button", name="Lưu ghi chú").click()
    page.get_by_role("link", name="Ý kiến chuẩn bị họp").wait_for()
    looks_right(page, screens, "notebook")
    page.get_by_role("link", name="Ý kiến chuẩn bị họp").click()
    page.locator("h1", has_text="Ý kiến chuẩn bị họp").wait_for()
    looks_right(page, screens, "note")
    page.get_by_label("Nội dung").fill("Hỏi về kế hoạch học tập quý I và quý II.")
    page.get_by_role("button", name="Lưu ghi chú").click()
    page.get_by_text("Hỏi về kế hoạch học tập quý I và quý II.").wait_for()

    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.get_by_label("Tiêu đề").fill("Viết khi mất mạng")
    page.get_by_label("Nội dung").fill("Ghi lại ngay trên xe.")
    page.get_by_role("button", name="Lưu ghi chú").click()
    page.get_by_text("Đã lưu trên máy, sẽ gửi khi có mạng.").wait_for()
    page.get_by_text("Chờ gửi khi có mạng").wait_for()
    looks_right(page, screens, "notebook-offline")

    page.context.set_offline(False)
    page.get_by_role("link", name="Viết khi mất mạng").wait_for()  # sent, and listed from the server
    assert not page.get_by_text("Chờ gửi khi có mạng").count()
    notes = requests.get(f"{running.base}/me/notes", headers=bearer(member["token"]), timeout=10).json()["items"]
    assert [n["body"] for n in notes if n["title"] == "Viết khi mất mạng"] == ["Ghi lại ngay trên xe."]


def test_an_opinion_written_offline_that_the_server_refuses_is_listed_with_its_reason_to_copy(
    running, origin, people, new_page, screens
):
    title = f"Họp chi uỷ {secrets.token_hex(3)}"
    said = "Đề nghị họp thêm về công tác phát triển đảng viên."
    meeting = schedule(running, people, title=title)
    page = new_page(SMALL)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    signed_in(page, origin, people["member"], f"meeting/{meeting['id']}")
    page.locator("h1", has_text=title).wait_for()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.locator("#o-general-new").fill(said)
    page.locator("form:has(#o-general-new) button").click()
    page.get_by_text("Chờ gửi khi có mạng").wait_for()
    # while the member has no signal, the meeting ends: its opinions are closed
    by_secretary(running, people, f"/meetings/{meeting['id']}/start")
    by_secretary(running, people, f"/meetings/{meeting['id']}/close")
    page.context.set_offline(False)

    notice = page.locator("#unsent-notice")
    notice.get_by_text("1 mục không gửi được").wait_for()  # told, not dropped
    assert not page.get_by_text("Chờ gửi khi có mạng").count()
    looks_right(page, screens, "meeting-unsent")
    notice.get_by_role("link", name="Xem lý do và chép lại nội dung").click()
    page.locator("h1", has_text="Chưa gửi được").wait_for()
    page.get_by_text("Không gửi được: Cuộc họp đã bắt đầu, kết thúc hoặc bị huỷ").wait_for()  # the server's reason
    assert page.get_by_label("Nội dung bạn đã viết").input_value() == said
    looks_right(page, screens, "unsent")
    page.get_by_role("button", name="Chép nội dung").click()
    page.get_by_text("Đã chép.", exact=False).wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == said
    page.get_by_role("button", name="English").click()
    page.get_by_text("Not sent: The meeting has started, ended or been cancelled").wait_for()  # the member's language
    page.get_by_role("button", name="Tiếng Việt").click()

    page.get_by_role("link", name="Mở cuộc họp").click()  # the notice stays until the member dismisses the item
    page.locator("h1", has_text=title).wait_for()
    notice.get_by_role("link").click()
    page.get_by_role("button", name="Bỏ mục này").click()
    page.get_by_text("Không còn mục nào chưa gửi được.").wait_for()
    page.get_by_role("link", name="Họp", exact=True).click()
    page.locator("h1", has_text="Cuộc họp").wait_for()
    assert not notice.count()


# a camera and a QR reader for a browser without them (Chromium on Linux has no BarcodeDetector): the detector
# sees what the test puts in window.shownQr
FAKE_CAMERA = """
window.BarcodeDetector = class { async detect() { return window.shownQr ? [{ rawValue: window.shownQr }] : []; } };
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = Object.assign(document.createElement("canvas"), { width: 16, height: 16 });
  canvas.getContext("2d").fillRect(0, 0, 16, 16);
  return canvas.captureStream();
};
"""


def test_where_the_browser_reads_qr_codes_a_member_checks_in_by_scanning_the_secretarys_screen(
    running, origin, people, new_page, screens
):
    meeting = schedule(running, people, title=f"Sinh hoạt chuyên đề {secrets.token_hex(3)}")
    page = new_page(SMALL)
    page.add_init_script(FAKE_CAMERA)
    signed_in(page, origin, people["probationary"], f"meeting/{meeting['id']}")
    page.get_by_role("button", name="Quét mã QR bằng camera").click()
    page.get_by_role("button", name="Dừng quét").wait_for()
    looks_right(page, screens, "meeting-scanning")
    elsewhere = f"sotay:checkin:{meeting['id'] + 100000}:123456"  # another meeting's code
    page.evaluate("(qr) => { window.shownQr = qr; }", elsewhere)
    page.get_by_text("Mã QR này của cuộc họp khác.").wait_for()
    secretary = bearer(people["secretary"]["token"])
    shown = requests.get(f"{running.base}/meetings/{meeting['id']}/check-in-code", headers=secretary, timeout=10)
    page.evaluate("(qr) => { window.shownQr = qr; }", shown.json()["qr"])
    page.get_by_text("Đã điểm danh lúc", exact=False).wait_for()
