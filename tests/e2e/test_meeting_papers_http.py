"""A meeting's papers over HTTP (issues 11 and 12): "a document used as a meeting paper is readable by everyone who
may see that meeting", and minutes go out with their resolution and its files. Everyone who sees the meeting (its
invitees, the officers of its organisation or above) reads its agenda's and its minutes' documents through
/meetings/{id}/papers/{document_id}, whatever the document's audience; anyone else, a document that is not the
meeting's, or a withdrawn one is 404 there, and GET /documents/{id} keeps its own audience."""

from datetime import timedelta

import pytest
import requests

from tests.e2e.conftest import bearer, error_code, post
from tests.e2e.meeting_people import known_to_meetings, meeting_body, runs_meetings
from tests.e2e.people import Factory, get
from tests.e2e.test_content_http import holds_position_in_content, known_to_content, upload
from tests.support import samples

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(running):
    """A province with two grassroots committees; a branch (its secretary and a member) and a sibling branch (a
    member, and the province's secretary, who lives there) in one; in the other, the branch of a committee member
    of the first. A branch in another province, so that a document may be addressed beyond any of them."""
    factory = Factory(running)
    province = factory.province()
    grassroots, other_grassroots = factory.organization(province["id"]), factory.organization(province["id"])
    branch, sibling = factory.organization(grassroots["id"]), factory.organization(grassroots["id"])
    elsewhere = factory.organization(other_grassroots["id"])
    far = factory.branch()
    people = {
        "secretary": factory.officer(branch),
        "member": factory.member(branch, activated=True),
        "outsider": factory.member(sibling, activated=True),
        "province_officer": factory.officer(province, member_of=sibling),
        "committee_member": factory.officer(grassroots, role="committee_member", member_of=elsewhere),
        "far": factory.member(far),
    }
    for person in people.values():
        known_to_content(running, person)
        known_to_meetings(running, person)
    holds_position_in_content(running, people["secretary"], branch)
    runs_meetings(running, people["secretary"], branch)
    runs_meetings(running, people["province_officer"], province)
    runs_meetings(running, people["committee_member"], grassroots)
    return {
        "factory": factory,
        "admin": factory.admin,
        "branch": branch,
        "sibling": sibling,
        "grassroots": grassroots,
        "far": far,
        **{who: person["token"] for who, person in people.items() if "token" in person},
    }


def published(running, token, *audience, title="Tài liệu họp"):
    body = {"category": "guidance", "title": title, "body": "Nội dung **tài liệu**.", "audience": list(audience)}
    draft = post(running, "/documents", body, token)
    assert draft.status_code == 201, draft.text
    done = post(running, f"/documents/{draft.json()['id']}/publish", None, token)
    assert done.status_code == 200, done.text
    return done.json()["id"]


def attached(running, document_id, token, data, name):
    added = upload(running, document_id, data, name, token)
    assert added.status_code == 201, added.text
    return added.json()


def schedule(running, token, organization, **fields):
    answer = post(running, f"/organizations/{organization['id']}/meetings", meeting_body(**fields), token)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def papers(running, world):
    """A guidance the centre addresses to the branch and to one in another province (for a pilot), with a file;
    the branch meeting that has it on its agenda; another document of the branch, not on the agenda."""
    data = samples.pdf(200_000)
    guidance = published(running, world["admin"], world["branch"]["id"], world["far"]["id"], title="Hướng dẫn thí điểm")
    file = attached(running, guidance, world["admin"], data, "Hướng dẫn thí điểm.pdf")
    meeting = schedule(
        running, world["secretary"], world["branch"], agenda=[{"title": "Quán triệt", "document_ids": [guidance]}]
    )
    other = published(running, world["secretary"], world["branch"]["id"], title="Không thuộc cuộc họp")
    return {"guidance": guidance, "file": file, "data": data, "meeting": meeting["id"], "other": other}


def test_a_province_officer_from_another_branch_reads_the_paper_and_its_file_through_the_meeting(
    running, world, papers
):
    officer, guidance, meeting = world["province_officer"], papers["guidance"], papers["meeting"]
    assert get(running, f"/documents/{guidance}", officer).status_code == 404  # not its audience, not in their charge
    assert get(running, f"/documents/{guidance}/attachments/1", officer).status_code == 404
    read = get(running, f"/meetings/{meeting}/papers/{guidance}", officer)
    assert read.status_code == 200, read.text
    assert read.json()["title"] == "Hướng dẫn thí điểm" and read.json()["attachments"] == [papers["file"]]
    assert "<strong>tài liệu</strong>" in read.json()["body"]
    path = f"{running.base}/meetings/{meeting}/papers/{guidance}/attachments/1"
    whole = requests.get(path, headers=bearer(officer), timeout=15)
    assert whole.status_code == 200 and whole.content == papers["data"]
    assert whole.headers["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''H%C6%B0%E1%BB%9Bng" in whole.headers["Content-Disposition"]
    resumed = requests.get(path, headers={**bearer(officer), "Range": "bytes=150000-"}, timeout=15)
    assert resumed.status_code == 206 and resumed.content == papers["data"][150_000:]
    assert resumed.headers["Content-Range"] == f"bytes 150000-{len(papers['data']) - 1}/{len(papers['data'])}"
    again = requests.get(path, headers={**bearer(officer), "If-None-Match": whole.headers["ETag"]}, timeout=15)
    assert again.status_code == 304
    assert get(running, f"/meetings/{meeting}/papers/{guidance}/attachments/2", officer).status_code == 404


def test_an_invitee_reads_the_paper_and_a_member_of_another_branch_learns_nothing(running, world, papers):
    meeting, guidance = papers["meeting"], papers["guidance"]
    agenda = get(running, f"/meetings/{meeting}", world["member"]).json()["agenda"]
    assert agenda[0]["document_ids"] == [guidance]
    assert agenda[0]["papers"] == [{"id": guidance, "title": "Hướng dẫn thí điểm"}]
    assert get(running, f"/meetings/{meeting}/papers/{guidance}", world["member"]).json()["id"] == guidance
    for path in (f"/meetings/{meeting}/papers/{guidance}", f"/meetings/{meeting}/papers/{guidance}/attachments/1"):
        answer = get(running, path, world["outsider"])
        assert answer.status_code == 404 and error_code(answer) == "not_found", path


def test_a_document_that_is_not_the_meetings_is_404_through_it(running, world, papers):
    meeting, other = papers["meeting"], papers["other"]
    assert get(running, f"/documents/{other}", world["member"]).status_code == 200  # theirs to read, elsewhere
    for who in ("member", "province_officer"):
        assert get(running, f"/meetings/{meeting}/papers/{other}", world[who]).status_code == 404
    assert get(running, f"/meetings/{meeting}/papers/987654321", world["member"]).status_code == 404


def test_a_committee_meetings_invitees_read_its_papers(running, world):
    """The grassroots committee meets (its province's secretary schedules it); a committee member who lives in
    another grassroots committee's branch reads a paper addressed to the grassroots and beyond the province."""
    grassroots = world["grassroots"]
    paper = published(running, world["admin"], grassroots["id"], world["far"]["id"], title="Đề án nhân sự")
    meeting = schedule(
        running,
        world["province_officer"],
        grassroots,
        kind="committee",
        starts_in=timedelta(days=2),
        agenda=[{"title": "Nhân sự", "document_ids": [paper]}],
    )
    assert meeting["invited"] == 1
    member = world["committee_member"]
    assert get(running, f"/documents/{paper}", member).status_code == 404
    read = get(running, f"/meetings/{meeting['id']}/papers/{paper}", member)
    assert read.status_code == 200 and read.json()["title"] == "Đề án nhân sự"
    assert get(running, f"/meetings/{meeting['id']}/papers/{paper}", world["member"]).status_code == 404


def test_minutes_go_out_with_the_resolution_and_its_file_to_the_invitees_and_the_committees_above(
    running, world, papers
):
    secretary, meeting = world["secretary"], papers["meeting"]
    resolution = published(running, secretary, world["branch"]["id"], title="Nghị quyết chi bộ tháng 12")
    data = samples.pdf(50_000)
    file = attached(running, resolution, secretary, data, "Nghị quyết.pdf")
    not_theirs = published(running, world["admin"], world["far"]["id"], title="Của nơi khác")
    path = f"/meetings/{meeting}/minutes"
    assert post(running, f"/meetings/{meeting}/start", None, secretary).status_code == 200
    refused = post(running, path, {"body": "Biên bản", "document_ids": [resolution, not_theirs]}, secretary)
    assert refused.status_code == 400 and error_code(refused) == "validation_error", refused.text
    assert str(not_theirs) in refused.json()["error"]["details"]["document_ids"][0]
    assert get(running, path, world["member"]).status_code == 404  # nothing half-published

    body = {"body": "Chi bộ đã thông qua nghị quyết.", "resolutions": ["Thông qua"], "document_ids": [resolution]}
    done = post(running, path, body, secretary)
    assert done.status_code == 201, done.text
    expected = [{"id": resolution, "title": "Nghị quyết chi bộ tháng 12", "attachments": [file]}]
    for who in ("member", "province_officer"):
        minutes = get(running, path, world[who])
        assert minutes.status_code == 200 and minutes.json()["papers"] == expected, who
        download = get(running, f"/meetings/{meeting}/papers/{resolution}/attachments/1", world[who])
        assert download.status_code == 200 and download.content == data, who
    assert get(running, path, world["outsider"]).status_code == 404
    assert get(running, f"/meetings/{meeting}/papers/{resolution}", world["outsider"]).status_code == 404


def test_a_withdrawn_paper_is_404_through_the_meeting_too(running, world, papers):
    guidance = published(running, world["admin"], world["branch"]["id"], world["far"]["id"], title="Sẽ thu hồi")
    attached(running, guidance, world["admin"], samples.pdf(), "x.pdf")
    meeting = schedule(
        running,
        world["secretary"],
        world["branch"],
        starts_in=timedelta(days=3),
        agenda=[{"title": "Tài liệu", "document_ids": [guidance]}],
    )
    path = f"/meetings/{meeting['id']}/papers/{guidance}"
    assert get(running, path, world["province_officer"]).status_code == 200
    assert post(running, f"/documents/{guidance}/withdraw", None, world["admin"]).status_code == 200
    for suffix in ("", "/attachments/1"):
        assert get(running, path + suffix, world["province_officer"]).status_code == 404, suffix


def test_an_invitee_who_transferred_after_the_meeting_still_reads_its_papers(running, world):
    """The meeting's invitees are frozen with its record: one who moves to another branch afterwards no longer
    reads the branch's document itself, but still reads it as the meeting's paper."""
    factory, secretary = world["factory"], world["secretary"]
    mover = known_to_meetings(running, known_to_content(running, factory.member(world["branch"], activated=True)))
    paper = published(running, secretary, world["branch"]["id"], title="Kế hoạch của chi bộ")
    meeting = schedule(running, secretary, world["branch"], agenda=[{"title": "Kế hoạch", "document_ids": [paper]}])
    assert post(running, f"/meetings/{meeting['id']}/close", None, secretary).status_code == 200
    issued = post(
        running, f"/members/{mover['id']}/transfers", {"to_organization_id": world["sibling"]["id"]}, secretary
    )
    assert issued.status_code == 201, issued.text
    assert post(running, f"/transfers/{issued.json()['id']}/accept", None, world["admin"]).status_code == 200
    known_to_meetings(running, known_to_content(running, mover, world["sibling"]["id"]), world["sibling"]["id"])
    assert get(running, f"/documents/{paper}", mover["token"]).status_code == 404
    read = get(running, f"/meetings/{meeting['id']}/papers/{paper}", mover["token"])
    assert read.status_code == 200 and read.json()["title"] == "Kế hoạch của chi bộ"
