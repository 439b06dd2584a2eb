"""A committee's report over HTTP, every service up (members' uptake by child organisation, the first report on
services/gateway/reports.py): the province's secretary sees each commune with its name, the ones nobody signed in
at as zeros, rates as fractions, and downloads the same table as XLSX; a plain member and a neighbouring
committee's secretary get 404."""

import io

import requests
from openpyxl import load_workbook

from services.gateway.reports import XLSX
from tests.e2e.conftest import bearer
from tests.e2e.people import Factory, get
from tests.support.waiting import wait_for


def test_a_province_sees_uptake_in_each_commune_and_downloads_it(running):
    factory = Factory(running)
    province = factory.province()
    ahead = factory.organization(province["id"], name="Đảng bộ phường Cao Lãnh")
    behind = factory.organization(province["id"], name="Đảng bộ xã Mỹ Tân")
    empty = factory.organization(province["id"], name="Đảng bộ xã Tân Thuận")
    secretary = factory.officer(province, member_of=factory.branch(ahead))
    factory.member(factory.branch(ahead), activated=True)
    factory.member(factory.branch(behind))
    factory.member(behind)
    path = f"/organizations/{province['id']}/uptake"

    def report():
        answer = get(running, path, secretary["token"])
        assert answer.status_code == 200, answer.text
        return answer.json()

    # activations reach members by identity's events
    table = wait_for(lambda: (lambda t: t if t["activated"] == 2 else None)(report()), message="both activations")
    assert (table["organization_id"], table["in_party"], table["activated"], table["rate"]) == (
        province["id"],
        4,
        2,
        0.5,
    )
    assert table["children"] == [
        {"organization_id": ahead["id"], "name": ahead["name"], "in_party": 2, "activated": 2, "rate": 1.0},
        {"organization_id": behind["id"], "name": behind["name"], "in_party": 2, "activated": 0, "rate": 0.0},
        {"organization_id": empty["id"], "name": empty["name"], "in_party": 0, "activated": 0, "rate": 0.0},
    ]

    download = requests.get(f"{running.base}{path}", headers={**bearer(secretary["token"]), "Accept": XLSX}, timeout=15)
    assert download.status_code == 200 and download.headers["Content-Type"] == XLSX
    assert download.headers["Content-Disposition"] == f'attachment; filename="uptake-{province["id"]}.xlsx"'
    rows = [[cell.value for cell in row] for row in load_workbook(io.BytesIO(download.content)).active.iter_rows()]
    assert province["name"] in rows[0][0]
    assert rows[4:] == [
        [ahead["name"], 2, 2, 1],
        [behind["name"], 2, 0, 0],
        [empty["name"], 0, 0, 0],
        ["Cộng / Total", 4, 2, 0.5],
    ]

    # the commune's figures for its own secretary; nothing for a member or for a neighbouring committee
    neighbour = factory.officer(behind)
    assert get(running, f"/organizations/{behind['id']}/uptake", neighbour["token"]).json()["in_party"] == 3
    member = factory.member(factory.branch(ahead), activated=True)
    for token in (member["token"], neighbour["token"]):
        refused = get(running, path, token)
        assert refused.status_code == 404, refused.text
        assert refused.json()["error"]["code"] == "not_found"
    assert get(running, f"{path}?format=pdf", secretary["token"]).status_code == 400
