"""An agenda's papers must reach the meeting's organisation (issue 12): content is asked (here a fake `reaching`)
before the meeting's transaction, only when the agenda has papers; unknown papers are a 400 naming them, content
unreachable a 503, and an outsider learns nothing (404, content never asked)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shared.contracts.members import SECRETARY
from shared.db import utcnow
from shared.errors import NotFound, ServiceUnavailable, ValidationError
from services.meetings import papers
from services.meetings.models import Meeting
from tests.support.meetings_world import org_id


class Content:
    """content's `papers_reaching`, with the documents that reach each organisation path."""

    def __init__(self, reaching=None, down=False):
        self.reaching, self.down, self.asked = reaching or {}, down, []

    def __call__(self, organization_path, document_ids):
        self.asked.append((organization_path, list(document_ids)))
        if self.down:
            raise ServiceUnavailable(details={"service": "content", "reason": "timeout"})
        return [i for i in document_ids if i in self.reaching.get(organization_path, ())]


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
