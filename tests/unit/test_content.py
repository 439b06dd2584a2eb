"""content without a broker: who sees a document (by organisation path, at read time), its lifecycle and versions,
sanitised bodies, full-text search folding, read receipts, bookmarks, the notebook, export and erasure."""

from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, select

from shared.contracts.content import DocumentStateConflict, UnknownOrganization
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, NotFound, ValidationError
from services.content import attachments, audience, bodies, documents, notes, papers, privacy, reading, search
from services.content.models import Audience, Document, Read
from services.content.service import ContentService
from tests.support.services import assert_unhealthy_without_its_broker
from tests.support.worlds import (
    BRANCH,
    CENTRE,
    GRASSROOTS,
    OTHER_BRANCH,
    OTHER_PROVINCE_BRANCH,
    PROVINCE,
    document_query,
    published,
)


def test_content_reports_itself_unhealthy_without_its_broker(monkeypatch):
    assert_unhealthy_without_its_broker(ContentService, monkeypatch)


def test_a_document_reaches_its_audiences_subtrees_and_nobody_else(content_world):
    member, sibling, elsewhere = (
        content_world.member(BRANCH),
        content_world.member(OTHER_BRANCH),
        content_world.member(OTHER_PROVINCE_BRANCH),
    )
    admin = content_world.officer(CENTRE, role="system_administrator")
    content_world.publish(admin, PROVINCE, title="Tỉnh")
    content_world.publish(admin, OTHER_BRANCH, title="Chi bộ bên")
    content_world.publish(admin, CENTRE, title="Toàn quốc")
    assert content_world.titles(member) == ["Toàn quốc", "Tỉnh"]
    assert content_world.titles(sibling) == ["Toàn quốc", "Chi bộ bên", "Tỉnh"]
    assert content_world.titles(elsewhere) == ["Toàn quốc"]


def test_a_national_publication_writes_a_row_per_audience_organisation_not_per_member(content_world):
    admin = content_world.officer(CENTRE, role="system_administrator")
    for _ in range(5):
        content_world.member(BRANCH)
    content_world.publish(admin, CENTRE)
    assert content_world.uow.session.scalar(select(func.count()).select_from(Audience)) == 1


def test_a_transferred_member_sees_the_new_branchs_documents_at_once(content_world):
    secretary = content_world.officer(OTHER_BRANCH)
    content_world.publish(secretary, OTHER_BRANCH, title="Của chi bộ mới")
    member = content_world.member(BRANCH)
    assert content_world.titles(member) == []
    assert content_world.move(member, OTHER_BRANCH) == member.member_id  # content.reader_moved: lists kept elsewhere
    assert content_world.titles(member) == ["Của chi bộ mới"]
    assert content_world.move(member, OTHER_BRANCH) is None  # the same place again: nothing to say


def test_outsiders_get_404_for_a_document_not_addressed_to_them(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.publish(secretary, BRANCH)
    outsider = content_world.member(OTHER_BRANCH)
    with pytest.raises(NotFound):
        reading.get(content_world.uow.session, outsider, document_id)
    assert reading.get(content_world.uow.session, content_world.member(BRANCH), document_id)["id"] == document_id


def test_a_member_who_left_the_party_sees_nothing(content_world):
    content_world.publish(content_world.officer(BRANCH), BRANCH)
    assert content_world.titles(content_world.member(BRANCH, status="resigned")) == []


def test_a_secretary_publishes_inside_her_subtree_only_and_members_not_at_all(content_world):
    secretary = content_world.officer(BRANCH)
    content_world.member(OTHER_BRANCH), content_world.member(OTHER_PROVINCE_BRANCH)
    with pytest.raises(Forbidden):
        content_world.write(secretary, OTHER_BRANCH)
    with pytest.raises(Forbidden):
        content_world.write(secretary, BRANCH, GRASSROOTS)
    with pytest.raises(Forbidden):
        content_world.write(content_world.member(BRANCH), BRANCH)
    assert content_world.write(content_world.officer(PROVINCE), BRANCH, OTHER_BRANCH)
    assert content_world.write(
        content_world.officer(CENTRE, role="system_administrator", lives_in=BRANCH), OTHER_PROVINCE_BRANCH
    )


def test_an_audience_naming_an_unknown_organisation_is_refused(content_world):
    secretary = content_world.officer(BRANCH)
    with pytest.raises(UnknownOrganization) as refused:
        content_world.uow.session.rollback()
        content_world.write(secretary, BRANCH, "/1/2/3/999/")
    assert isinstance(refused.value, ValidationError) and refused.value.details == {"audience": {1: [audience.UNKNOWN]}}


def test_committees_above_a_member_are_known_from_their_path(content_world):
    content_world.member(BRANCH)
    assert content_world.write(
        content_world.officer(CENTRE, role="system_administrator", lives_in=OTHER_BRANCH), GRASSROOTS
    )


def test_drafts_and_scheduled_documents_are_for_the_officers_over_them(content_world):
    secretary = content_world.officer(BRANCH)
    draft = content_world.write(secretary, BRANCH, title="Bản nháp")
    content_world.write(secretary, BRANCH, title="Hẹn giờ", publish_at=utcnow() + timedelta(hours=1))
    member = content_world.member(BRANCH)
    assert content_world.titles(member) == []
    with pytest.raises(NotFound):
        reading.get(content_world.uow.session, member, draft)
    with pytest.raises(Forbidden):
        content_world.titles(member, status="draft")
    assert content_world.titles(secretary, status="draft") == ["Bản nháp"]
    assert content_world.titles(secretary, status="scheduled") == ["Hẹn giờ"]
    assert content_world.titles(content_world.officer(PROVINCE), status="draft") == ["Bản nháp"]
    assert content_world.titles(content_world.officer(OTHER_BRANCH), status="draft") == []


def test_the_scheduler_publishes_due_documents_once(content_world):
    secretary = content_world.officer(BRANCH)
    due = content_world.write(secretary, BRANCH, title="Đến giờ", publish_at=utcnow() - timedelta(seconds=1))
    content_world.write(secretary, BRANCH, title="Chưa đến giờ", publish_at=utcnow() + timedelta(hours=1))
    assert documents.publish_due(content_world.uow) == 1
    assert documents.publish_due(content_world.uow) == 0
    assert content_world.titles(content_world.member(BRANCH)) == ["Đến giờ"]
    assert [p["document_id"] for p in published(content_world.uow, "content.document_published")] == [due]


def test_a_publication_time_given_in_vietnam_s_offset_is_kept_as_the_same_moment(content_world):
    secretary = content_world.officer(BRANCH)
    hanoi = timezone(timedelta(hours=7))
    content_world.write(
        secretary, BRANCH, title="Vừa đến giờ", publish_at=(utcnow() - timedelta(seconds=1)).astimezone(hanoi)
    )
    content_world.write(
        secretary, BRANCH, title="Sau một giờ", publish_at=(utcnow() + timedelta(hours=1)).astimezone(hanoi)
    )
    assert documents.publish_due(content_world.uow) == 1
    assert content_world.titles(content_world.member(BRANCH)) == ["Vừa đến giờ"]


def test_publishing_and_withdrawing_announce_it_with_the_audience_paths(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.publish(secretary, BRANCH)
    with content_world.uow.transaction():
        documents.withdraw(content_world.uow, secretary, document_id)
    (announced,) = published(content_world.uow, "content.document_published")
    assert announced["version"] == 1 and announced["audience"] == [{"organization_id": 4, "organization_path": BRANCH}]
    (withdrawn,) = published(content_world.uow, "content.document_withdrawn")
    assert withdrawn["document_id"] == document_id
    assert content_world.titles(content_world.member(BRANCH)) == []
    assert reading.get(content_world.uow.session, secretary, document_id)["status"] == "withdrawn"  # kept for audit
    with pytest.raises(DocumentStateConflict), content_world.uow.transaction():
        documents.publish(content_world.uow, secretary, document_id)


def test_editing_a_published_document_makes_a_new_version_and_keeps_the_earlier_for_officers(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.publish(secretary, BRANCH, body="Bản một")
    with content_world.uow.transaction():
        documents.update_document(content_world.uow, secretary, document_id, {"body": "Bản hai"})
    member = content_world.member(BRANCH)
    current = reading.get(content_world.uow.session, member, document_id)
    assert current["version"] == 2 and "Bản hai" in current["body"] and current["versions"] == []
    assert "Bản một" in reading.get(content_world.uow.session, secretary, document_id, version=1)["body"]
    assert reading.get(content_world.uow.session, secretary, document_id)["versions"] == [1, 2]
    with pytest.raises(NotFound):
        reading.get(content_world.uow.session, member, document_id, version=1)
    assert [p["version"] for p in published(content_world.uow, "content.document_published")] == [1, 2]


def test_a_draft_is_edited_in_place(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.write(secretary, BRANCH)
    with content_world.uow.transaction():
        documents.update_document(content_world.uow, secretary, document_id, {"title": "Tên mới"})
    document = content_world.uow.session.get(Document, document_id)
    assert (document.title, document.version, document.status) == ("Tên mới", 1, "draft")
    assert published(content_world.uow, "content.document_published") == []


def test_an_officer_over_a_document_may_not_be_another_subtrees(content_world):
    document_id = content_world.publish(content_world.officer(BRANCH), BRANCH)
    stranger, neighbour = content_world.officer(OTHER_BRANCH), content_world.officer(OTHER_BRANCH, lives_in=BRANCH)
    with pytest.raises(NotFound), content_world.uow.transaction():
        documents.withdraw(content_world.uow, stranger, document_id)
    for reader in (neighbour, content_world.member(BRANCH)):  # they read it, they may not act on it
        with pytest.raises(Forbidden), content_world.uow.transaction():
            documents.withdraw(content_world.uow, reader, document_id)


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>Chào",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        '<p onclick="alert(1)">x</p>',
        '<img src=x onerror="alert(1)">',
        "<svg onload=alert(1)></svg>",
        '<iframe src="https://evil.example"></iframe>',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    ],
)
def test_nothing_executable_survives_in_a_body(source):
    body = bodies.render(source).lower()
    assert "<script" not in body and "onerror" not in body and "onclick" not in body and "onload" not in body
    assert 'href="javascript' not in body and 'href="data' not in body and "<iframe" not in body


def test_markdown_becomes_a_small_html_subset():
    assert bodies.render("# Tiêu đề\n\n**đậm** [liên kết](https://dangcongsan.vn)") == (
        '<h1>Tiêu đề</h1>\n<p><strong>đậm</strong> <a href="https://dangcongsan.vn" '
        'rel="noopener noreferrer nofollow">liên kết</a></p>\n'
    )


def test_search_ignores_diacritics_and_case_and_folds_d(content_world):
    secretary = content_world.officer(BRANCH)
    content_world.publish(secretary, BRANCH, title="Nghị quyết Đại hội XIV", body="Văn kiện")
    content_world.publish(secretary, BRANCH, title="Tin tức", body="Tin ngắn về đại hội")
    content_world.publish(secretary, BRANCH, title="Hướng dẫn", body="Khác hẳn")
    member = content_world.member(BRANCH)
    assert content_world.titles(member, q="nghi quyet dai hoi") == ["Nghị quyết Đại hội XIV"]
    assert content_world.titles(member, q="ĐẠI HỘI") == ["Nghị quyết Đại hội XIV", "Tin tức"]
    assert content_world.titles(member, q="dai h") == [
        "Nghị quyết Đại hội XIV",
        "Tin tức",
    ]  # the last word as typed so far
    assert content_world.titles(member, q="!!!") == []
    assert search.words("Đảng bộ") == ["dang", "bo"]


def test_search_finds_the_new_version_and_only_what_the_member_may_see(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.publish(secretary, BRANCH, title="Thông báo", body="cũ")
    with content_world.uow.transaction():
        documents.update_document(content_world.uow, secretary, document_id, {"body": "lịch sinh hoạt mới"})
    content_world.publish(content_world.officer(OTHER_BRANCH), OTHER_BRANCH, title="Lịch sinh hoạt khác")
    member = content_world.member(BRANCH)
    assert content_world.titles(member, q="sinh hoat") == ["Thông báo"]
    assert content_world.titles(member, q="cu") == []


def test_pages_follow_each_other_newest_first(content_world):
    secretary = content_world.officer(BRANCH)
    for n in range(5):
        content_world.publish(secretary, BRANCH, title=f"Văn bản {n}")
    member = content_world.member(BRANCH)
    first = reading.listing(content_world.uow.session, member, document_query(limit=2))
    second = reading.listing(content_world.uow.session, member, document_query(limit=2, cursor=first["next_cursor"]))
    third = reading.listing(content_world.uow.session, member, document_query(limit=2, cursor=second["next_cursor"]))
    titles = [item["title"] for page in (first, second, third) for item in page["items"]]
    assert titles == [f"Văn bản {n}" for n in (4, 3, 2, 1, 0)] and third["next_cursor"] is None


def test_read_receipts_bookmarks_and_the_unread_count(content_world):
    secretary = content_world.officer(BRANCH)
    first = content_world.publish(secretary, BRANCH, title="Một")
    content_world.publish(secretary, BRANCH, title="Hai")
    member = content_world.member(BRANCH)
    assert reading.unread_count(content_world.uow.session, member) == {"unread": 2}
    for _ in range(2):  # idempotent
        with content_world.uow.transaction():
            assert reading.mark_read(content_world.uow, member, first)["read"] is True
    assert content_world.uow.session.scalar(select(func.count()).select_from(Read)) == 1
    assert reading.unread_count(content_world.uow.session, member) == {"unread": 1}
    assert content_world.titles(member, unread=True) == ["Hai"]
    with content_world.uow.transaction():
        reading.set_bookmark(content_world.uow, member, first, True)
    assert content_world.titles(member, bookmarked=True) == ["Một"]
    items = reading.listing(content_world.uow.session, member, document_query())["items"]
    assert [(i["read"], i["bookmarked"]) for i in items] == [(False, False), (True, True)]
    with content_world.uow.transaction():
        reading.set_bookmark(content_world.uow, member, first, False)
    assert content_world.titles(member, bookmarked=True) == []
    with pytest.raises(NotFound), content_world.uow.transaction():
        reading.mark_read(content_world.uow, content_world.member(OTHER_BRANCH), first)


def test_notes_are_their_owners_alone(content_world):
    owner, admin = content_world.member(BRANCH), content_world.officer(CENTRE, role="system_administrator")
    with content_world.uow.transaction():
        note = notes.create(
            content_world.uow, owner.member_id, {"title": "Ý kiến", "body": "…", "document_id": None, "meeting_id": 7}
        )
    assert notes.get(content_world.uow.session, owner.member_id, note["id"])["meeting_id"] == 7
    for other in (admin, content_world.member(BRANCH)):
        with pytest.raises(NotFound):
            notes.get(content_world.uow.session, other.member_id, note["id"])
        with pytest.raises(NotFound), content_world.uow.transaction():
            notes.delete(content_world.uow, other.member_id, note["id"])
    assert [n["title"] for n in notes.listing(content_world.uow.session, owner.member_id)["items"]] == ["Ý kiến"]
    assert notes.listing(content_world.uow.session, admin.member_id)["items"] == []


def test_a_members_reads_bookmarks_and_notes_are_exported_to_them_and_erased_on_order(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.publish(secretary, BRANCH)
    member, admin = content_world.member(BRANCH), content_world.officer(CENTRE, role="system_administrator")
    with content_world.uow.transaction():
        reading.mark_read(content_world.uow, member, document_id)
        reading.set_bookmark(content_world.uow, member, document_id, True)
        notes.create(
            content_world.uow,
            member.member_id,
            {"title": "Riêng", "body": "", "document_id": document_id, "meeting_id": None},
        )
    exported = privacy.export(content_world.uow.session, member, member.member_id)
    assert [r["document_id"] for r in exported["reads"]] == [document_id]
    assert [n["title"] for n in exported["notes"]] == ["Riêng"] and len(exported["bookmarks"]) == 1
    with pytest.raises(NotFound):
        privacy.export(content_world.uow.session, admin, member.member_id)
    with content_world.uow.transaction():
        done = privacy.erase(content_world.uow, admin, member.member_id, "Đơn đề nghị số 1")
    assert done == {"reads": 1, "bookmarks": 1, "quiz_results": 0, "notes": 1}
    assert privacy.export(content_world.uow.session, member, member.member_id) == {
        "reads": [],
        "bookmarks": [],
        "quiz_results": [],
        "notes": [],
    }
    assert content_world.titles(member) == []  # gone from the directory too


BLOB = {"key": "k" * 43, "size": 10, "sha256": "0" * 64, "content_type": "application/pdf"}


def test_attachments_are_added_by_the_documents_officers_and_fetched_by_its_audience_alone(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.publish(secretary, BRANCH)
    member, outsider = content_world.member(BRANCH), content_world.member(OTHER_BRANCH)
    with content_world.uow.transaction():
        assert attachments.add(content_world.uow, secretary, document_id, BLOB, "Nghị quyết.pdf")["n"] == 1
    assert attachments.fetch(content_world.uow.session, member, document_id, 1)["key"] == BLOB["key"]
    for who, n in ((outsider, 1), (member, 2)):
        with pytest.raises(NotFound):
            attachments.fetch(content_world.uow.session, who, document_id, n)
    draft = content_world.write(secretary, BRANCH)
    with content_world.uow.transaction():
        attachments.add(content_world.uow, secretary, draft, {**BLOB, "key": "d" * 43}, "Dự thảo.pdf")
    assert attachments.fetch(content_world.uow.session, secretary, draft, 1)["key"] == "d" * 43
    with pytest.raises(NotFound):
        attachments.fetch(content_world.uow.session, member, draft, 1)
    with pytest.raises(Forbidden), content_world.uow.transaction():
        attachments.add(content_world.uow, member, document_id, {**BLOB, "key": "m" * 43}, "x.pdf")
    with pytest.raises(ValidationError), content_world.uow.transaction():
        attachments.add(content_world.uow, secretary, document_id, {**BLOB, "key": "../../etc/passwd"}, "x.pdf")
    with content_world.uow.transaction():
        documents.withdraw(content_world.uow, secretary, document_id)
    with pytest.raises(NotFound):
        attachments.fetch(content_world.uow.session, member, document_id, 1)
    assert attachments.fetch(content_world.uow.session, secretary, document_id, 1)["key"] == BLOB["key"]  # audit
    with pytest.raises(DocumentStateConflict):
        attachments.may_attach(content_world.uow.session, secretary, document_id)


def test_a_document_holds_a_bounded_number_of_attachments(content_world):
    secretary = content_world.officer(BRANCH)
    document_id = content_world.write(secretary, BRANCH)
    for n in range(attachments.MAX_PER_DOCUMENT):
        with content_world.uow.transaction():
            attachments.add(content_world.uow, secretary, document_id, {**BLOB, "key": f"{n:043d}"}, f"{n}.pdf")
    with pytest.raises(Conflict), content_world.uow.transaction():
        attachments.add(content_world.uow, secretary, document_id, {**BLOB, "key": "z" * 43}, "one-too-many.pdf")


def test_a_meetings_papers_are_the_published_documents_its_organisation_sees(content_world):
    secretary = content_world.officer(BRANCH)
    content_world.member(OTHER_BRANCH)
    admin = content_world.officer(CENTRE, role="system_administrator")
    mine = content_world.publish(secretary, BRANCH)
    national = content_world.publish(admin, CENTRE)
    elsewhere = content_world.publish(admin, OTHER_BRANCH)
    draft = content_world.write(secretary, BRANCH)
    asked = [mine, national, elsewhere, draft, 999]
    reaching = audience.papers_reaching(content_world.uow.session, BRANCH, asked)
    assert reaching["reaching"] == [mine, national]
    assert [paper["id"] for paper in reaching["papers"]] == [mine, national]


def test_a_paper_is_served_through_meetings_whatever_its_audience_while_it_stays_published(content_world):
    """meetings decided the reader sees the meeting: content serves a published paper and its files to them even
    outside its audience; a draft was never a paper, a withdrawn one is gone (404)."""
    session = content_world.uow.session
    secretary = content_world.officer(BRANCH)
    paper = content_world.publish(secretary, BRANCH, title="Dự thảo nghị quyết")
    draft = content_world.write(secretary, BRANCH)
    officer_elsewhere = content_world.officer(PROVINCE, lives_in=OTHER_BRANCH)
    with content_world.uow.transaction():
        attachments.add(content_world.uow, secretary, paper, BLOB, "Nghị quyết.pdf")
    outsider = content_world.member(OTHER_PROVINCE_BRANCH)
    with pytest.raises(NotFound):
        reading.get(session, outsider, paper)  # GET /documents/{id} stays theirs to be refused
    read = papers.get(session, outsider, paper)
    assert read["title"] == "Dự thảo nghị quyết" and read["body"] and read["versions"] == []
    assert papers.attachment(session, outsider, paper, 1)["key"] == BLOB["key"]
    assert papers.get(session, officer_elsewhere, paper)["id"] == paper
    for missing in ((draft, 1), (paper, 2), (999, 1)):
        with pytest.raises(NotFound):
            papers.attachment(session, outsider, *missing)
    with pytest.raises(NotFound):
        papers.get(session, outsider, draft)
    with content_world.uow.transaction():
        documents.withdraw(content_world.uow, secretary, paper)
    for read_it in (
        lambda: papers.get(session, outsider, paper),
        lambda: papers.attachment(session, outsider, paper, 1),
    ):
        with pytest.raises(NotFound):
            read_it()


def test_the_minutes_papers_are_published_documents_reaching_the_meeting_or_in_the_publishers_charge(content_world):
    """A province officer publishing a branch's minutes names the resolution they wrote for the branch, or a national
    document; not the document of the branch they belong to elsewhere (they read it, it is not theirs to show), not a
    draft."""
    session = content_world.uow.session
    member = content_world.member(BRANCH)
    officer = content_world.officer(PROVINCE, lives_in=OTHER_PROVINCE_BRANCH)
    admin = content_world.officer(CENTRE, role="system_administrator")
    resolution = content_world.publish(officer, BRANCH, title="Nghị quyết chi bộ")
    with content_world.uow.transaction():
        attachments.add(content_world.uow, officer, resolution, BLOB, "Nghị quyết.pdf")
    national = content_world.publish(admin, CENTRE, title="Chỉ thị")
    their_own_branch = content_world.publish(admin, OTHER_PROVINCE_BRANCH)
    draft = content_world.write(officer, BRANCH)
    asked = [national, resolution, their_own_branch, draft, 999, resolution]
    found = papers.for_minutes(session, officer, BRANCH, asked)["papers"]
    assert [(p["id"], p["title"]) for p in found] == [(national, "Chỉ thị"), (resolution, "Nghị quyết chi bộ")]
    assert found[1]["attachments"] == [
        {"n": 1, "name": "Nghị quyết.pdf", "content_type": "application/pdf", "size": 10}
    ]
    assert [p["id"] for p in papers.for_minutes(session, member, BRANCH, [resolution, their_own_branch])["papers"]] == [
        resolution
    ]
