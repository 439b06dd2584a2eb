"""An agenda's papers must reach the meeting's organisation (issue 12): content is asked (here a fake `reaching`)
before the meeting's transaction, only when the agenda has papers; unknown papers are a 400 naming them, content
unreachable a 503, and an outsider learns nothing (404, content never asked). The minutes' documents are checked the
same way; whoever sees the meeting reads both through it (issue 11), anyone else 404."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shared.contracts.members import SECRETARY
from shared.db import utcnow
from shared.errors import NotFound, ServiceUnavailable, ValidationError
from services.meetings import domain, minutes, papers
from services.meetings.models import Meeting
from tests.support.meetings_world import org_id
from tests.support.worlds import published as published_events


class Content:
    """content's `papers_reaching`, with the documents that reach each organisation path."""

    def __init__(self, reaching=None, down=False):
        self.reaching, self.down, self.asked = reaching or {}, down, []

    def __call__(self, organization_path, document_ids):
        self.asked.append((organization_path, list(document_ids)))
        if self.down:
            raise ServiceUnavailable(details={"service": "content", "reason": "timeout"})
        reaching = self.reaching.get(organization_path, ())
        return [{"id": i, "title": f"Văn bản {i}"} for i in document_ids if i in reaching]


@pytest.fixture
def branch(meetings_world):
    *_, path = meetings_world.chain()
    secretary = meetings_world.member(path, (SECRETARY, path))
    return {"path": path, "secretary": secretary, "outsider": meetings_world.member(meetings_world.organization())}


def body(*document_ids):
    starts_at = utcnow() + timedelta(days=1)
    return {
        "title": "Sinh hoạt chi bộ",
        "kind": "regular",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=2),
        "location": "Hội trường",
        "online_url": None,
        "agenda": [{"title": "Nghị quyết", "document_ids": list(document_ids)}, {"title": "Khác", "document_ids": []}],
        "repeat": None,
    }


def meetings_count(world):
    return world.session.scalar(select(func.count()).select_from(Meeting))


def schedule(world, member_id, path, content, *document_ids):
    return papers.schedule_meeting(world.uow, member_id, org_id(path), body(*document_ids), content)


def test_papers_that_reach_the_branch_are_on_the_agenda(meetings_world, branch):
    content = Content({branch["path"]: {11, 12}})
    meeting = schedule(meetings_world, branch["secretary"], branch["path"], content, 12, 11, 12)
    assert meeting["agenda"][0]["document_ids"] == [12, 11, 12]
    assert meeting["agenda"][0]["papers"] == [{"id": 12, "title": "Văn bản 12"}, {"id": 11, "title": "Văn bản 11"}]
    assert meeting["agenda"][1]["papers"] == []
    assert content.asked == [(branch["path"], [12, 11])]


def test_papers_that_do_not_reach_the_branch_are_a_400_naming_them_and_nothing_is_scheduled(meetings_world, branch):
    content = Content({branch["path"]: {11}})
    with pytest.raises(ValidationError) as refused:
        schedule(meetings_world, branch["secretary"], branch["path"], content, 11, 40, 41)
    (message,) = refused.value.details["agenda"]
    assert re.findall(r"\d+", message) == ["40", "41"] * 2  # in Vietnamese and in English
    assert meetings_count(meetings_world) == 0


def test_an_agenda_without_papers_asks_nobody(meetings_world, branch):
    content = Content(down=True)
    assert schedule(meetings_world, branch["secretary"], branch["path"], content)["status"] == "scheduled"
    assert content.asked == []


def test_content_unreachable_is_a_503_not_a_meeting_with_unchecked_papers(meetings_world, branch):
    with pytest.raises(ServiceUnavailable):
        schedule(meetings_world, branch["secretary"], branch["path"], Content(down=True), 11)
    assert meetings_count(meetings_world) == 0


def test_an_outsider_is_told_nothing_and_content_is_not_asked(meetings_world, branch):
    content = Content({branch["path"]: {11}})
    with pytest.raises(NotFound):
        schedule(meetings_world, branch["outsider"], branch["path"], content, 99)
    assert content.asked == []


def test_a_changed_agenda_is_checked_and_a_refused_change_leaves_the_agenda(meetings_world, branch):
    content = Content({branch["path"]: {11, 12}})
    meeting = schedule(meetings_world, branch["secretary"], branch["path"], content, 11)
    secretary, agenda = branch["secretary"], [{"title": "Nghị quyết", "document_ids": [11, 13]}]
    with pytest.raises(ValidationError) as refused:
        papers.update_meeting(meetings_world.uow, secretary, meeting["id"], {"agenda": agenda}, content)
    assert re.findall(r"\d+", refused.value.details["agenda"][0]) == ["13"] * 2
    content.asked.clear()
    kept = papers.update_meeting(meetings_world.uow, secretary, meeting["id"], {"title": "Tháng 12"}, content)
    assert kept["agenda"][0]["document_ids"] == [11] and content.asked == []
    agenda[0]["document_ids"] = [12]
    changed = papers.update_meeting(meetings_world.uow, secretary, meeting["id"], {"agenda": agenda}, content)
    assert [item["document_ids"] for item in changed["agenda"]] == [[12]]
    assert content.asked == [(branch["path"], [12])]


# reading a paper through its meeting, and the minutes' papers


class Linkable:
    """content's `papers_for_minutes`: of the ids asked, those it knows (with their title and files)."""

    def __init__(self, *known, down=False):
        self.known, self.down, self.asked = known, down, []

    def __call__(self, organization_path, document_ids):
        self.asked.append((organization_path, list(document_ids)))
        if self.down:
            raise ServiceUnavailable(details={"service": "content", "reason": "timeout"})
        return [{"id": i, "title": f"Văn bản {i}", "attachments": []} for i in document_ids if i in self.known]


@pytest.fixture
def held(meetings_world, branch):
    """A meeting with paper 11 on its agenda, closed: a province officer from a branch elsewhere, and an invitee who
    has since transferred away, still see it."""
    world = meetings_world
    province = branch["path"].rsplit("/", 3)[0] + "/"
    branch["member"] = world.member(branch["path"])
    branch["province_officer"] = world.member(world.organization(province), (SECRETARY, province))
    meeting = schedule(world, branch["secretary"], branch["path"], Content({branch["path"]: {11}}), 11)
    with world.uow.transaction():
        domain.start_meeting(world.uow, branch["secretary"], meeting["id"])
        domain.close_meeting(world.uow, branch["secretary"], meeting["id"])
    world.snapshot(branch["member"], world.organization(province))
    return meeting["id"]


def test_whoever_sees_the_meeting_reads_its_agenda_papers_and_nobody_else_learns_of_them(meetings_world, branch, held):
    uow = meetings_world.uow
    for who in ("secretary", "member", "province_officer"):
        papers.require_paper(uow, branch[who], held, 11)
    with pytest.raises(NotFound):
        papers.require_paper(uow, branch["outsider"], held, 11)
    with pytest.raises(NotFound):
        papers.require_paper(uow, branch["member"], held, 12)  # not one of the meeting's papers
    with pytest.raises(NotFound):
        papers.require_paper(uow, branch["member"], 987654, 11)


def test_minutes_name_documents_content_accepts_in_order_and_they_become_the_meetings_papers(
    meetings_world, branch, held
):
    uow, secretary = meetings_world.uow, branch["secretary"]
    content = Linkable(21, 22)
    body = {"body": "Biên bản", "resolutions": [], "document_ids": [22, 21, 22]}
    published = minutes.publish_minutes(uow, secretary, held, body, content)
    assert [(p["id"], p["title"]) for p in published["papers"]] == [(22, "Văn bản 22"), (21, "Văn bản 21")]
    assert content.asked == [(branch["path"], [22, 21])]
    assert minutes.get_minutes(meetings_world.session, branch["member"], held)["papers"] == published["papers"]
    (event,) = published_events(uow, "meetings.minutes_published")
    assert event["document_ids"] == [22, 21]
    for document_id in (11, 21, 22):
        papers.require_paper(uow, branch["province_officer"], held, document_id)
    with pytest.raises(NotFound):
        papers.require_paper(uow, branch["outsider"], held, 21)


def test_minutes_naming_documents_content_refuses_or_with_content_away_publish_nothing(meetings_world, branch, held):
    uow, secretary = meetings_world.uow, branch["secretary"]
    body = {"body": "Biên bản", "resolutions": [], "document_ids": [21, 30, 31]}
    with pytest.raises(ValidationError) as refused:
        minutes.publish_minutes(uow, secretary, held, body, Linkable(21))
    (message,) = refused.value.details["document_ids"]
    assert re.findall(r"\d+", message) == ["30", "31"] * 2
    with pytest.raises(ServiceUnavailable):
        minutes.publish_minutes(uow, secretary, held, body, Linkable(down=True))
    with pytest.raises(NotFound):
        minutes.get_minutes(meetings_world.session, branch["member"], held)
    with pytest.raises(NotFound):
        papers.require_paper(uow, branch["member"], held, 21)
    content = Linkable(21)
    with pytest.raises(NotFound):  # an outsider is told nothing, content is not asked
        minutes.publish_minutes(uow, branch["outsider"], held, body, content)
    assert content.asked == []


def test_a_papers_new_title_taken_in_a_resaved_agenda_is_said_to_those_keeping_the_meeting(meetings_world, branch):
    """The same items and documents, one paper retitled at content since: the meeting shows the new title, so the
    gateway's known versions must hear of it (meetings.meeting_updated), with no news for the invitees."""
    content = Content({branch["path"]: {11}})
    meeting = schedule(meetings_world, branch["secretary"], branch["path"], content, 11)
    retitled = lambda path, ids: [{**paper, "title": "Văn bản 11 (sửa đổi)"} for paper in content(path, ids)]  # noqa: E731
    agenda = [{"title": item["title"], "document_ids": item["document_ids"]} for item in meeting["agenda"]]
    shown = papers.update_meeting(meetings_world.uow, branch["secretary"], meeting["id"], {"agenda": agenda}, retitled)
    assert shown["agenda"][0]["papers"] == [{"id": 11, "title": "Văn bản 11 (sửa đổi)"}]
    assert published_events(meetings_world.uow, "meetings.meeting_changed") == []
    assert published_events(meetings_world.uow, "meetings.meeting_updated") == [
        {"meeting_id": meeting["id"], "organization_id": org_id(branch["path"])}
    ]
