"""Adding a member (POST /members) without telling an officer who is a member elsewhere.

Within the officer's subtree a clash with an existing member (citizen ID or party card) is a 409
naming the field. Outside it the answer must not confirm membership: the registration waits for a
system administrator (202 pending_review), stored and audited. An officer may send REVIEWS_PER_DAY
of those a day (Vietnam's day); after that every registration of theirs waits for the next day, so
the limit does not tell either.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from shared.db import aware, utcnow
from shared.errors import Conflict, Forbidden, NotFound, TooManyAttempts, ValidationError
from services.members.domain import add_member, clashes, member_json
from services.members.models import AuditEntry, Member, Organization, Registration

REVIEWS_PER_DAY = 3
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
ALREADY_HERE = "Đã có trong đảng bộ của đồng chí. / Already a member in your organisation."
PENDING = (
    "Hồ sơ đã được chuyển quản trị hệ thống xem xét trước khi thêm. / "
    "This registration has gone to a system administrator for review before it is added."
)
LIMIT = (
    "Hôm nay đồng chí đã gửi đủ {n} hồ sơ cần xem xét; hãy thêm đảng viên vào ngày mai hoặc nhờ quản trị "
    "hệ thống. / You have sent {n} registrations for review today; add members tomorrow or ask a system "
    "administrator."
)


def register(uow, actor, data):
    """The new member's JSON, or `{status: pending_review, …}` when it waits for an administrator."""
    session = uow.session
    org = session.get(Organization, data["organization_id"])
    if org is None or not actor.manages(org.path):
        raise ValidationError(details={"organization_id": ["unknown organisation"]})
    now = utcnow()
    if not actor.is_admin:
        _within_daily_reviews(session, actor, now)
    found = clashes(session, data["citizen_id"], data.get("party_card_number"))
    if not found:
        return member_json(add_member(uow, data, actor_id=actor.member.id))
    outside = [(field, member) for field, member in found if not actor.manages(member.organization_path)]
    if not outside:
        raise Conflict(details={field: [ALREADY_HERE] for field, _ in found})
    field, member = outside[0]
    review = Registration(
        citizen_id=data["citizen_id"],
        data=_as_json(data),
        organization_id=org.id,
        member_id=member.id,
        field=field,
        requested_by=actor.member.id,
        requested_at=now,
    )
    session.add(review)
    session.flush()
    _audit(
        uow,
        actor,
        "member.registration_review",
        review,
        None,
        {"citizen_id": review.citizen_id, "organization_id": org.id, "clashes_with": member.id, "field": field},
    )
    return {"status": "pending_review", "registration_id": review.id, "message": PENDING}


def _audit(uow, actor, action, review, before, after):
    uow.session.add(
        AuditEntry(
            actor_member_id=actor.member.id,
            action=action,
            subject_type="registration",
            subject_id=review.id,
            before=before,
            after=after,
            correlation_id=uow.context.get("correlation_id"),
            client_address=uow.context.get("client_address"),
        )
    )


def _within_daily_reviews(session, actor, now):
    now = now.astimezone(VIETNAM)
    midnight = datetime.combine(now.date(), time(), tzinfo=VIETNAM)
    # in UTC: SQLite compares the stored UTC text, whatever zone the bound time is in
    sent = session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.requested_by == actor.member.id, Registration.requested_at >= midnight.astimezone(UTC))
    )
    if sent >= REVIEWS_PER_DAY:
        retry = int((midnight + timedelta(days=1) - now).total_seconds()) + 1
        raise TooManyAttempts(message=LIMIT.format(n=REVIEWS_PER_DAY), headers={"Retry-After": str(retry)})


def _as_json(data):
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in data.items()}


def pending_reviews(session, actor, limit=500):
    """System administrators: what waits, with the member it clashes with where they are now."""
    if not actor.is_admin:
        raise Forbidden()
    rows = session.execute(
        select(Registration, Member)
        .join(Member, Member.id == Registration.member_id)
        .where(Registration.status == "pending_review")
        .order_by(Registration.id)
        .limit(limit)
    ).all()
    return {
        "items": [
            {
                "id": r.id,
                "citizen_id": r.citizen_id,
                "full_name": r.data.get("full_name"),
                "organization_id": r.organization_id,
                "field": r.field,
                "status": r.status,
                "requested_by": r.requested_by,
                "requested_at": aware(r.requested_at).isoformat(),
                "member": {
                    "id": m.id,
                    "full_name": m.full_name,
                    "status": m.status,
                    "organization_id": m.organization_id,
                },
            }
            for r, m in rows
        ],
        "next_cursor": None,
    }


def close(uow, actor, registration_id, reason=None):
    """A system administrator closes a review (the member is already on record: a transfer, a
    correction or nothing is the way on, outside this system's word to the officer)."""
    if not actor.is_admin:
        raise Forbidden()
    review = uow.session.get(Registration, registration_id)
    if review is None:
        raise NotFound()
    if review.status != "pending_review":
        raise ValidationError(details={"status": [f"already {review.status}"]})
    review.status, review.closed_by, review.closed_at, review.reason = "closed", actor.member.id, utcnow(), reason
    _audit(
        uow,
        actor,
        "member.registration_closed",
        review,
        {"status": "pending_review"},
        {"status": "closed", "reason": reason},
    )
    return {"id": review.id, "status": review.status, "reason": reason}
