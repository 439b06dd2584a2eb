"""Meeting attendance over HTTP, every service up: a province's officer sees each commune's meetings held, invitations
and check-ins for a month (the commune without meetings as zeros) and downloads the table as XLSX; a member and a
neighbouring committee's officer get 404. A member absent without a reason from three regular meetings is flagged
into their branch secretary's inbox."""

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests
from openpyxl import load_workbook

from services.gateway.reports import XLSX
from tests.e2e.conftest import bearer, error_code, post
from tests.e2e.meeting_people import known_to_meetings, runs_meetings, schedule
from tests.e2e.people import Factory, get
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e
VIETNAM = timezone(timedelta(hours=7))


@pytest.fixture(scope="module")
def province(running):
    factory = Factory(running)
    province = factory.province()
    held = factory.organization(province["id"], name="Đảng bộ phường Cao Lãnh")
    quiet = factory.organization(province["id"], name="Đảng bộ xã Mỹ Tân")
    branch = factory.organization(held["id"])
    secretary = runs_meetings(running, factory.officer(branch), branch)
    return {
        "factory": factory,
        "province": province,
        "held": held,
        "quiet": quiet,
        "people": {"branch": branch, "secretary": secretary},
        "present": known_to_meetings(running, factory.member(branch, activated=True)),
        "absent": known_to_meetings(running, factory.member(branch, activated=True)),
        # the province's officer belongs to a branch of the quiet commune: no meeting there
        "officer": factory.officer(province, member_of=factory.organization(quiet["id"])),
    }


def month_of(meeting):
    return datetime.fromisoformat(meeting["starts_at"]).astimezone(VIETNAM).strftime("%Y-%m")


def hold(running, place, check_in=()):
    """A regular meeting of the branch, the `check_in` members checked in by the secretary, closed."""
    people, token = place["people"], place["people"]["secretary"]["token"]
    meeting = schedule(running, people)
    path = f"/meetings/{meeting['id']}"
    for member in check_in:
        assert post(running, f"{path}/check-in", {"member_id": member["id"]}, token).status_code == 200
    assert post(running, f"{path}/close", None, token).status_code == 200
    return meeting


def test_a_province_sees_attendance_in_each_commune_and_downloads_it(running, province):
    meeting = hold(running, province, check_in=[province["present"]])
    month = month_of(meeting)
    path = f"/organizations/{province['province']['id']}/attendance?month={month}"
    officer = province["officer"]["token"]

    def report():  # the officer's position reaches meetings by members' event
        answer = get(running, path, officer)
        return answer.json() if answer.status_code == 200 else None

    table = wait_for(report, message="the province's officer known to meetings")
    held, quiet = province["held"], province["quiet"]
    # invited: the secretary and two members; attended: one
    assert {key: table[key] for key in ("organization_id", "month", "meetings", "invited", "attended", "rate")} == {
        "organization_id": province["province"]["id"],
        "month": month,
        "meetings": 1,
        "invited": 3,
        "attended": 1,
        "rate": 0.3333,
    }
    assert table["children"] == [
        {
            "organization_id": held["id"],
            "name": held["name"],
            "meetings": 1,
            "invited": 3,
            "attended": 1,
            "rate": 0.3333,
        },
        {
            "organization_id": quiet["id"],
            "name": quiet["name"],
            "meetings": 0,
            "invited": 0,
            "attended": 0,
            "rate": 0.0,
        },
    ]

    download = requests.get(f"{running.base}{path}&format=xlsx", headers=bearer(officer), timeout=15)
    assert download.status_code == 200 and download.headers["Content-Type"] == XLSX
    name = f"attendance-{province['province']['id']}-{month}.xlsx"
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    rows = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(download.content)).active.iter_rows()]
    assert province["province"]["name"] in rows[0][0] and month in rows[1][0]
    assert rows[4:] == [
        [held["name"], 1, 3, 1, 0.3333],
        [quiet["name"], 0, 0, 0, 0],
        ["Cộng / Total", 1, 3, 1, 0.3333],
    ]


def test_a_member_and_a_neighbouring_committees_officer_get_404_and_bad_periods_400(running, province):
    factory = province["factory"]
    neighbour = factory.officer(province["quiet"])
    quiet = f"/organizations/{province['quiet']['id']}/attendance"
    wait_for(lambda: get(running, quiet, neighbour["token"]).status_code == 200, message="the neighbour known")
    for token in (province["present"]["token"], neighbour["token"]):
        for organization in (province["province"], province["held"]):
            refused = get(running, f"/organizations/{organization['id']}/attendance", token)
            assert refused.status_code == 404 and error_code(refused) == "not_found", refused.text
    officer = province["officer"]["token"]
    base = f"/organizations/{province['province']['id']}/attendance"
    for query in ("month=2026-13", "month=26-11", "year=abc", "month=2026-11&year=2026", "format=pdf"):
        answer = get(running, f"{base}?{query}", officer)
        assert answer.status_code == 400 and error_code(answer) == "validation_error", query
    year = datetime.now(UTC).astimezone(VIETNAM).year
    assert get(running, f"{base}?year={year}", officer).json()["month"] == str(year)


def test_three_absences_without_a_reason_reach_the_branch_secretary(running, province):
    present, absent, secretary = province["present"], province["absent"], province["people"]["secretary"]
    for _ in range(3):
        hold(running, province, check_in=[present, secretary])
    title = f"Đảng viên vắng sinh hoạt: {absent['full_name']}"

    def flagged():
        items = get(running, "/me/notifications", secretary["token"]).json()["items"]
        return [item for item in items if item["title"] == title]

    (item,) = wait_for(flagged, message="the absences in the secretary's inbox")
    assert "3 buổi" in item["body"] and item["category"] == "meetings"
    assert not [i for i in get(running, "/me/notifications", absent["token"]).json()["items"] if "vắng" in i["title"]]
