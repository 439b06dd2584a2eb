"""content on a real broker and database: it learns the directory from members' events, and what a secretary
publishes (now, or when its time comes) reaches her branch's members and is announced through the outbox."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared.db import standalone_unit
from shared.service_tokens import ensure_key_pair
from services.content.models import Base as ContentBase, directory
from services.identity import domain as identity_domain
from services.identity.models import Base as IdentityBase
from services.members import seed
from services.members.models import Base as MembersBase, Member
from tests.integration.test_members_to_identity import _unless_unavailable, call
from tests.support.services import assert_ready_once_identity_answers
from tests.support.waiting import wait_for

PASSWORD = "mật khẩu đủ dài"


def test_content_is_ready_once_identity_answers_and_serves_its_metrics(prepare, containers):
    assert_ready_once_identity_answers("content", prepare, containers)


def _read(metadata, service, statement):
    uow, database = standalone_unit(metadata, service)
    try:
        return uow.session.execute(statement).all()
    finally:
        uow.close()
        database.engine.dispose()


@pytest.fixture
def suite(prepare, containers):
    """members (seeded), identity and content running; the demo secretary and a member of her branch signed in."""
    ensure_key_pair("gateway")
    classes = [prepare(name) for name in ("identity", "members", "content")]
    uow, database = standalone_unit(MembersBase.metadata, "members")
    with uow.transaction():
        seed.seed(uow)
    uow.close()
    database.engine.dispose()
    for cls in classes:
        containers(cls)
    count = select(func.count()).select_from(directory.Membership)
    wait_for(lambda: _read(ContentBase.metadata, "content", count)[0][0] == 15, message="content's directory")
    uow, database = standalone_unit(IdentityBase.metadata, "identity")
    with uow.transaction() as session:
        for citizen_id in ("001000000001", "001000000002"):
            identity_domain.set_password(session, citizen_id, PASSWORD)
    uow.close()
    database.engine.dispose()
    tokens = {}
    for citizen_id in ("001000000001", "001000000002"):
        tokens[citizen_id] = call(("identity", "login"), {"citizen_id": citizen_id, "password": PASSWORD})[
            "access_token"
        ]
    ((branch,),) = _read(
        MembersBase.metadata, "members", select(Member.organization_id).where(Member.citizen_id == "001000000001")
    )
    return tokens["001000000001"], tokens["001000000002"], branch


def _documents(token):
    return [item["title"] for item in call(("content", "list_documents"), {}, token=token)["items"]]


def test_a_publication_reaches_the_branch_and_is_announced_and_a_scheduled_one_follows_when_due(suite):
    secretary, member, branch = suite
    body = {"category": "news", "title": "Thông báo chi bộ", "body": "Nội dung", "audience": [branch]}
    created = wait_for(
        lambda: _unless_unavailable(lambda: call(("content", "create_document"), body, token=secretary)),
        message="content to know the ended sessions",
    )
    call(("content", "publish_document"), created["id"], token=secretary)
    assert _documents(member) == ["Thông báo chi bộ"]

    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    call(("content", "create_document"), {**body, "title": "Hẹn giờ", "publish_at": soon}, token=secretary)
    wait_for(lambda: _documents(member) == ["Hẹn giờ", "Thông báo chi bộ"], timeout=20, message="the scheduler")

    outbox = ContentBase.metadata.tables["outbox"]
    sent = select(outbox.c.type).where(outbox.c.state == "sent")
    wait_for(
        lambda: [t for (t,) in _read(ContentBase.metadata, "content", sent)] == ["content.document_published"] * 2,
        message="both publications relayed to the broker",
    )
