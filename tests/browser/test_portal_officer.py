"""What officers and administrators do in the portal, in Chromium: run a meeting (schedule, the rotating QR code,
check-ins, a vote, the minutes), import members with a live progress bar and an error report, switch a province's
rollout, read the study dashboard; each screen photographed at phone and desktop size and checked by axe-core."""

import datetime as dt
import secrets
from pathlib import Path

import pytest
import requests

from shared.demo import DEMO_PASSWORD
from tests.e2e import people
from tests.e2e.conftest import ADMINISTRATOR, GOOD_PASSWORD, bearer
from tests.e2e.people import Factory
from tests.support.browser import LARGE, SMALL
from tests.support.waiting import wait_for

BOTH = pytest.mark.parametrize("viewport", [SMALL, LARGE], ids=["360x740", "1280x800"])
VIETNAM = dt.timezone(dt.timedelta(hours=7))
# a 1×1 PNG: an attachment content accepts by its bytes
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005"
    "0001ff89993d1d0000000049454e44ae426082"
)
HEADER = (
    "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
    "organization_code,status"
)


@pytest.fixture(scope="module")
def factory(running):
    return Factory(running)


@pytest.fixture
def administrator(running, factory):
    return {"citizen_id": ADMINISTRATOR, "full_name": api(running, "GET", "/me", factory.admin)["full_name"]}


def signed_in(new_page, origin, person, viewport=LARGE, password=GOOD_PASSWORD):
    page = new_page(viewport)
    page.goto(origin + "/")
    page.fill("input[name=citizen_id]", person["citizen_id"])
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.get_by_text(person["full_name"]).wait_for()
    return page


def api(running, method, path, token, body=None):
    answer = requests.request(method, f"{running.base}{path}", json=body, headers=bearer(token), timeout=15)
    assert answer.status_code < 300, answer.text
    return answer.json()


@BOTH
def test_the_secretary_runs_a_meeting_from_schedule_to_minutes(running, origin, factory, new_page, screens, viewport):
    branch = factory.branch()
    secretary = factory.officer(branch)
    member = factory.member(branch, activated=True)
    page = signed_in(new_page, origin, secretary, viewport)
    page.get_by_role("link", name="Điều hành họp").click()
    page.locator("h1", has_text="Điều hành cuộc họp").wait_for()
    assert not screens.check(page, "run-meetings")

    soon = dt.datetime.now(VIETNAM) + dt.timedelta(minutes=10)  # inside the check-in window (30 min before)
    page.get_by_label("Tên cuộc họp").fill("Sinh hoạt chi bộ tháng này")
    page.get_by_label("Loại").select_option("regular")
    page.get_by_label("Bắt đầu (giờ Việt Nam)").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Kết thúc (giờ Việt Nam)").fill((soon + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Địa điểm").fill("Nhà văn hoá khu phố")
    page.get_by_label("Chương trình họp").fill("Báo cáo tháng\nKế hoạch tháng tới")
    page.get_by_role("button", name="Lên lịch").click()
    page.locator("h1", has_text="Sinh hoạt chi bộ tháng này").wait_for()
    page.get_by_role("cell", name=member["full_name"]).wait_for()
    assert not screens.check(page, "run-meeting")
    (meeting,) = [
        m
        for m in api(running, "GET", f"/organizations/{branch['id']}/meetings", secretary["token"])["items"]
        if m["title"] == "Sinh hoạt chi bộ tháng này"
    ]

    # the full-screen QR code: the picture and the six digits, the digits those the member checks in with
    page.get_by_role("button", name="Hiện mã QR điểm danh").click()
    qr = page.get_by_role("img", name="Mã QR điểm danh")
    qr.wait_for()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    code = page.locator(".qr-code").get_attribute("data-code")
    assert len(code) == 6 and code.isdigit()
    assert not screens.check(page, "run-check-in-qr")
    api(running, "POST", f"/meetings/{meeting['id']}/check-in", member["token"], {"code": code})
    page.get_by_role("button", name="Đóng mã QR").click()
    row = page.get_by_role("row", name=member["full_name"])
    row.get_by_text("Có mặt").wait_for()  # the member's check-in on their phone shows up

    page.get_by_role("button", name="Bắt đầu họp").click()
    page.locator(".meeting-status", has_text="Đang họp").wait_for()
    page.get_by_label("Nội dung biểu quyết").fill("Thông qua kế hoạch tháng tới")
    page.get_by_role("button", name="Mở biểu quyết").click()
    page.get_by_role("button", name="Kết thúc biểu quyết: Thông qua kế hoạch tháng tới").wait_for()
    (vote,) = api(running, "GET", f"/meetings/{meeting['id']}/votes", member["token"])["items"]
    api(running, "POST", f"/votes/{vote['id']}/ballots", member["token"], {"choice": vote["options"][0]})
    page.get_by_role("button", name="Kết thúc biểu quyết: Thông qua kế hoạch tháng tới").click()
    page.get_by_text("Tán thành: 1").wait_for()  # the results, in words

    page.get_by_label("Biên bản").fill("Chi bộ đã họp đủ nội dung.")
    page.get_by_label("Nghị quyết").fill("Thông qua kế hoạch tháng tới")
    page.get_by_role("button", name="Công bố biên bản").click()
    page.get_by_text("Đã công bố biên bản tới người được mời.").wait_for()
    assert not screens.check(page, "run-meeting-minutes")
    minutes = api(running, "GET", f"/meetings/{meeting['id']}/minutes", member["token"])
    assert minutes["resolutions"] == ["Thông qua kế hoạch tháng tới"]


def test_a_member_is_not_offered_the_officers_screens(running, origin, factory, new_page):
    member = factory.member(factory.branch(), activated=True)
    page = signed_in(new_page, origin, member, SMALL)
    assert page.get_by_role("link", name="Điều hành họp").count() == 0
    page.goto(origin + "/#/run")
    page.locator("h1", has_text="Không có quyền").wait_for()


@BOTH
def test_the_administrator_imports_a_file_with_one_bad_row_and_downloads_its_error_report(
    running, origin, factory, administrator, new_page, screens, viewport
):
    branch = factory.branch()
    citizen_id = f"0017{next(people._numbers):08d}"
    good = f"{citizen_id},Nguyễn Thị Nhập,1980-03-04,Nữ,,,,2010-01-01,2011-01-01,{branch['code']},chính thức"
    bad = f'not-an-id,"Trần Văn Sai, con",1980-03-04,Nam,,,,2010-01-01,2011-01-01,{branch["code"]},chính thức'
    page = signed_in(new_page, origin, administrator, viewport, password=DEMO_PASSWORD)
    page.get_by_role("link", name="Quản trị").click()
    page.locator("h1", has_text="Quản trị").wait_for()
    page.get_by_label("Tệp CSV hoặc XLSX (đến 32 MiB)").set_input_files(
        files=[{"name": "dang-vien.csv", "mimeType": "text/csv", "buffer": f"{HEADER}\n{good}\n{bad}\n".encode()}]
    )
    assert not screens.check(page, "admin")
    page.get_by_role("button", name="Nhập", exact=True).click()
    page.get_by_text("Xong: nhận 1 dòng, từ chối 1 dòng.").wait_for()
    assert page.locator("#import-progress").evaluate("(bar) => bar.value") == 1  # the bar reached 100 %
    page.get_by_text("Đã xử lý 2/2 dòng (100 %)").wait_for()
    assert not screens.check(page, "admin-import-done")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Tải báo cáo lỗi (CSV)").click()
    report = Path(downloading.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert report[0].endswith(HEADER)
    assert len(report) == 2 and report[1].startswith("3,") and report[1].endswith(bad)  # the row as in the file


def test_the_rollout_switchboard_switches_a_province_to_pilot(
    running, origin, factory, administrator, new_page, screens
):
    name = f"Tỉnh Thử {secrets.randbelow(10**6)}"
    province = factory.organization(factory.centre, name=name)
    assert province["rollout"] == "disabled"
    page = signed_in(new_page, origin, administrator, SMALL, password=DEMO_PASSWORD)
    page.get_by_role("link", name="Quản trị").click()
    page.get_by_label(f"Triển khai: {name}", exact=True).select_option("pilot")
    page.get_by_role("button", name=f"Đổi triển khai: {name}").click()
    page.locator("#status", has_text=f"{name}: Thí điểm").wait_for()
    assert api(running, "GET", f"/organizations/{province['id']}", factory.admin)["rollout"] == "pilot"
    page.get_by_role("button", name=f"{name} (Tỉnh)").click()  # open it: nothing below yet
    page.get_by_text("Không có tổ chức trực thuộc.").wait_for()
    assert not screens.both_sizes(page, "admin-tree")


@BOTH
def test_the_secretary_publishes_study_material_and_sees_a_members_read_in_the_study_dashboard(
    running, origin, factory, new_page, screens, viewport
):
    branch = factory.branch()
    secretary = factory.officer(branch)
    member = factory.member(branch, activated=True)
    title = f"Học tập nghị quyết {secrets.randbelow(10**6)}"
    page = signed_in(new_page, origin, secretary, viewport)
    page.get_by_role("link", name="Cấp uỷ").click()
    page.locator("h1", has_text="Số liệu").wait_for()
    page.get_by_role("button", name="Đăng văn bản").click()
    page.get_by_label("Tiêu đề").fill(title)
    page.get_by_label("Loại văn bản").select_option("study")
    page.get_by_label("Nội dung", exact=True).fill("Toàn văn nghị quyết.\n\nCác nhiệm vụ trọng tâm.")
    page.get_by_label("Tài liệu học tập (theo dõi tiến độ)").check()
    page.get_by_label("Tệp đính kèm").set_input_files(
        files=[{"name": "tom-tat.png", "mimeType": "image/png", "buffer": PNG}]
    )
    assert not screens.check(page, "officer-publish")
    page.get_by_role("button", name="Đăng", exact=True).click()
    page.get_by_text("Đã đăng văn bản.").wait_for()
    (document,) = [d for d in api(running, "GET", "/documents", member["token"])["items"] if d["title"] == title]
    assert document["attachments"][0]["name"] == "tom-tat.png"

    api(running, "POST", f"/documents/{document['id']}/read", member["token"])
    progress = f"/organizations/{branch['id']}/study-progress?document_id={document['id']}"
    wait_for(lambda: api(running, "GET", progress, secretary["token"])["read"] == 1, message="the read to be counted")
    page.get_by_role("button", name="Số liệu").click()
    page.locator("h1", has_text="Số liệu").wait_for()
    page.get_by_label("Tài liệu học tập", exact=True).select_option(label=title)
    study = page.get_by_role("region", name="Tiến độ học tập")
    study.get_by_role("row", name="Cộng").get_by_role("cell").nth(1).wait_for()
    total = study.get_by_role("row", name="Cộng").inner_text().split("\t")
    assert total[1:4] == ["2", "1", "50\xa0%"]  # the secretary and the member reached, one of them read it
    assert not screens.check(page, "officer-dashboards")
    with page.expect_download() as downloading:
        study.locator("xpath=..").get_by_role("button", name="Tải bảng Excel (XLSX)").click()
    assert downloading.value.suggested_filename.endswith(".xlsx")


@BOTH
def test_the_secretary_finds_a_member_approves_a_correction_and_confirms_a_phone(
    running, origin, factory, new_page, screens, viewport
):
    branch = factory.branch()
    secretary = factory.officer(branch)
    member = factory.member(branch, phone=False)
    phone = people.other_phone()
    started = requests.post(
        f"{running.base}/auth/activation", json={"citizen_id": member["citizen_id"], "phone": phone}, timeout=10
    )
    assert started.status_code == 202, started.text
    page = signed_in(new_page, origin, secretary, viewport)
    page.get_by_role("link", name="Cấp uỷ").click()
    page.get_by_role("button", name="Đảng viên", exact=True).click()
    page.get_by_label("Tìm theo tên, số định danh hoặc số thẻ").fill(member["citizen_id"])
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.get_by_role("button", name=member["full_name"]).wait_for()
    assert not screens.check(page, "officer-members")
    page.get_by_role("button", name=member["full_name"]).click()
    page.locator("h1", has_text=member["full_name"]).wait_for()
    page.get_by_text("Hồ sơ điện tử").wait_for()
    assert not screens.check(page, "officer-member-record")

    other = factory.member(branch, activated=True)
    corrected = f"Nguyễn Văn Đúng {secrets.randbelow(10**6)}"
    api(running, "PATCH", "/me", other["token"], {"full_name": corrected})  # core data: waits for the secretary
    page.get_by_role("button", name="Chờ duyệt").click()
    page.get_by_text(f"Họ và tên: {corrected}").wait_for()
    page.get_by_role("button", name=f"Xác nhận: {member['full_name']}").wait_for()
    assert not screens.check(page, "officer-approvals")
    page.get_by_role("button", name=f"Duyệt: {other['full_name']}").click()
    page.get_by_text("Đã duyệt.").wait_for()
    assert api(running, "GET", f"/members/{other['id']}", secretary["token"])["full_name"] == corrected
    page.get_by_role("button", name=f"Xác nhận: {member['full_name']}").click()
    page.get_by_text("Đã xác nhận; mã được gửi tới số đó.").wait_for()
    assert any(message["to"] == phone for message in running.sms())  # the code went to the confirmed phone
