"""A committee's report at the gateway (services/gateway/reports.py), the owning service and members mocked: children
named from members and in its order, rows of zeros for children nothing was counted for, rates as fractions (0 over
nothing), the same table as an XLSX workbook reopened and read back, a bad format refused."""

import io

import pytest
from marshmallow import fields
from openpyxl import load_workbook

from services.gateway import openapi
from services.gateway.reports import XLSX, Count, Report
from tests.unit.test_gateway import environment, gateway, get  # noqa: F401 (fixtures)

ORGANIZATION = {"id": 2, "code": "T02", "name": "Đảng bộ tỉnh Đồng Tháp", "level": "provincial", "parent_id": 1}
CHILDREN = [
    {"id": 4, "code": "T04", "name": "Đảng bộ phường Cao Lãnh", "level": "grassroots", "parent_id": 2},
    {"id": 5, "code": "T05", "name": '=HYPERLINK("http://x")', "level": "grassroots", "parent_id": 2},
    {"id": 6, "code": "T06", "name": "Đảng bộ xã Mỹ Tân", "level": "grassroots", "parent_id": 2},
]
UPTAKE = {
    "organization_id": 2,
    "in_party": 30,
    "activated": 12,
    "children": [
        {"organization_id": 6, "in_party": 10, "activated": 0},
        {"organization_id": 4, "in_party": 20, "activated": 12},
        {"organization_id": 99, "in_party": 0, "activated": 0},  # dissolved since: members no longer lists it
    ],
}


@pytest.fixture
def members(gateway):  # noqa: F811
    members = gateway.rpc.members
    members.organization_uptake.return_value = UPTAKE
    members.list_children.return_value = {"items": CHILDREN, "next_cursor": None}
    members.get_organization.return_value = {**ORGANIZATION, "rollout": "pilot"}
    return members


def test_the_report_names_every_child_in_members_order_with_rates_as_fractions(gateway, members):  # noqa: F811
    answer = get(gateway, "/organizations/2/uptake")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "organization_id": 2,
        "in_party": 30,
        "activated": 12,
        "rate": 0.4,
        "children": [
            {"organization_id": 4, "name": "Đảng bộ phường Cao Lãnh", "in_party": 20, "activated": 12, "rate": 0.6},
            {"organization_id": 5, "name": CHILDREN[1]["name"], "in_party": 0, "activated": 0, "rate": 0.0},
            {"organization_id": 6, "name": "Đảng bộ xã Mỹ Tân", "in_party": 10, "activated": 0, "rate": 0.0},
        ],
    }
    members.organization_uptake.assert_called_once_with(2)
    members.list_children.assert_called_once_with(2)  # as the requesting member: members decides what they see


@pytest.mark.parametrize("ask", [{"params": {"format": "xlsx"}}, {"headers": {"Accept": XLSX}}])
def test_the_same_table_downloads_as_a_workbook(gateway, members, ask):  # noqa: F811
    answer = get(gateway, "/organizations/2/uptake", **ask)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == XLSX
    assert answer.headers["Content-Disposition"] == 'attachment; filename="uptake-2.xlsx"'
    assert answer.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "Kích hoạt Sổ tay / Sổ tay uptake — Đảng bộ tỉnh Đồng Tháp"
    assert rows[3] == ["Tổ chức / Organisation", "Đảng viên / Members", "Đã kích hoạt / Signed in", "Tỉ lệ / Rate"]
    assert rows[4:] == [
        ["Đảng bộ phường Cao Lãnh", 20, 12, 0.6],
        ['=HYPERLINK("http://x")', 0, 0, 0],
        ["Đảng bộ xã Mỹ Tân", 10, 0, 0],
        ["Cộng / Total", 30, 12, 0.4],
    ]
    assert sheet.cell(row=6, column=1).data_type == "s"  # a name is never a formula
    assert sheet.cell(row=5, column=4).number_format == "0.0%"


def test_a_format_it_cannot_serve_is_a_validation_error_before_any_service_is_asked(gateway, members):  # noqa: F811
    answer = get(gateway, "/organizations/2/uptake", params={"format": "pdf"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_error"
    assert "format" in answer.json()["error"]["details"]
    members.organization_uptake.assert_not_called()


def test_the_document_describes_the_workbook_and_the_format():
    operation = openapi.build()["paths"]["/api/v1/organizations/{organization_id}/uptake"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", XLSX}
    assert {"name": "format", "in": "query"}.items() <= next(
        p for p in operation["parameters"] if p["name"] == "format"
    ).items()
    assert "400" in operation["responses"]


def test_a_report_of_nothing_is_zeros_not_a_division_error(gateway, members):  # noqa: F811
    members.organization_uptake.return_value = {"organization_id": 2, "in_party": 0, "activated": 0, "children": []}
    rows = get(gateway, "/organizations/2/uptake").json()["children"]
    assert [row["rate"] for row in rows] == [0.0, 0.0, 0.0]


def test_a_file_name_holds_ids_and_periods_only():
    report = Report(
        "MonthReport",
        "attendance",
        "Chuyên cần / Attendance",
        columns=(Count("invited", "Mời / Invited"),),
        about={"month": ("Tháng / Month", fields.String()), "title": ("Tên / Title", fields.String())},
    )
    table = {"organization_id": 12, "month": "2026-11", "title": 'Nghị quyết "số 1"/../x'}
    assert report.file_name(table) == "attendance-12-2026-11.xlsx"
