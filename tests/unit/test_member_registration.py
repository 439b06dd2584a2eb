"""Adding a member (services/members/registration.py): within an officer's subtree a clash names its field;
outside it the answer never confirms membership elsewhere: the registration waits for a system administrator,
stored and audited, a few a day (Vietnam's day)."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from shared.errors import Conflict, Forbidden, TooManyAttempts, ValidationError
from services.members import registration
from services.members.models import AuditEntry, Member, Registration
from tests.support.worlds import published


@pytest.fixture
def offices(members_world):
    """A branch and its secretary; a member in a branch of another province; a system administrator."""
    w = members_world
    centre, _, _, branch = w.chain()
    far = w.organization("branch", w.organization("grassroots", w.organization("provincial", centre)))
    return SimpleNamespace(
        world=w,
        branch=branch,
        far=far,
        secretary=w.member(branch, ("secretary", branch)),
        neighbour=w.member(branch),
        outsider=w.member(far),
        admin=w.member(far, ("system_administrator", centre)),
    )


def register(offices, who, citizen_id, organization=None, **fields):
    data = {
        "citizen_id": citizen_id,
        "full_name": "Mạc Văn Thử",
        "status": "probationary",
        "organization_id": (organization or offices.branch).id,
        "admission_date": date(2025, 1, 1),
        **fields,
    }
    with offices.world.uow.transaction():
        return registration.register(offices.world.uow, offices.world.actor(getattr(offices, who)), data)


def members_with(offices, citizen_id):
    return offices.world.session.scalars(select(Member).where(Member.citizen_id == citizen_id)).all()


def test_a_new_member_is_added_and_announced(offices):
    added = register(offices, "secretary", "001070000001", phone="+84951234567")
    assert added["status"] == "probationary" and added["organization_id"] == offices.branch.id
    assert published(offices.world.uow, "members.member_created")[-1]["member_id"] == added["id"]


def test_a_clash_within_the_officers_subtree_names_its_field(offices):
    with pytest.raises(Conflict) as clash:
        register(offices, "secretary", offices.neighbour.citizen_id)
    assert set(clash.value.details) == {"citizen_id"}
    with pytest.raises(Conflict) as card:
        register(offices, "secretary", "001070000002", party_card_number=offices.neighbour.party_card_number)
    assert set(card.value.details) == {"party_card_number"}


def test_a_clash_elsewhere_waits_for_an_administrator_and_tells_the_officer_nothing(offices):
    answer = register(offices, "secretary", offices.outsider.citizen_id)
    assert answer["status"] == "pending_review" and set(answer) == {"status", "registration_id", "message"}
    assert len(members_with(offices, offices.outsider.citizen_id)) == 1  # nobody added twice
    review = offices.world.session.get(Registration, answer["registration_id"])
    assert (review.member_id, review.field, review.requested_by) == (
        offices.outsider.id,
        "citizen_id",
        offices.secretary.id,
    )
    audited = offices.world.session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "registration"))
    assert [(a.action, a.subject_id) for a in audited] == [("member.registration_review", review.id)]


def test_reviews_are_read_and_closed_by_administrators_only(offices):
    review_id = register(offices, "secretary", offices.outsider.citizen_id)["registration_id"]
    uow, secretary, admin = (
        offices.world.uow,
        offices.world.actor(offices.secretary),
        offices.world.actor(offices.admin),
    )
    with pytest.raises(Forbidden):
        registration.pending_reviews(offices.world.session, secretary)
    [waiting] = registration.pending_reviews(offices.world.session, admin)["items"]
    assert (waiting["id"], waiting["member"]["id"]) == (review_id, offices.outsider.id)
    with pytest.raises(Forbidden), uow.transaction():
        registration.close(uow, secretary, review_id)
    with uow.transaction():
        assert registration.close(uow, admin, review_id, "đã chuyển sinh hoạt")["status"] == "closed"
    with pytest.raises(ValidationError), uow.transaction():
        registration.close(uow, admin, review_id)
    assert registration.pending_reviews(offices.world.session, admin)["items"] == []


def test_an_officer_adds_only_into_their_own_subtree(offices):
    with pytest.raises(ValidationError) as refused:
        register(offices, "secretary", "001070000003", organization=offices.far)
    assert "organization_id" in refused.value.details
    assert members_with(offices, "001070000003") == []


def test_the_daily_limit_counts_the_vietnamese_day(offices, monkeypatch):
    late_yesterday = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # 23:30 in Vietnam
    early_today = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)  # 00:30 in Vietnam, the 25th
    now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
    for at in (late_yesterday, early_today, early_today, now):
        monkeypatch.setattr(registration, "utcnow", lambda at=at: at)
        assert register(offices, "secretary", offices.outsider.citizen_id)["status"] == "pending_review"
    with pytest.raises(TooManyAttempts) as limited:
        register(offices, "secretary", "001070000999")  # even a new citizen ID
    assert int(limited.value.headers["Retry-After"]) == 16 * 3600 + 1
    assert members_with(offices, "001070000999") == []
