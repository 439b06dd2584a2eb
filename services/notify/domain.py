"""notify's domain: who hears what, and sending (the inbox is inbox.py, publications publications.py). Plain Python.

Each (event, member, channel) is one row of `deliveries` (unique): a redelivered
event finds it and sends nothing twice. A large fan-out (a committee going live)
is two INSERT … SELECT statements over notify's own projection of members (its directory), not
one call per member. Sending is pending → sending → sent, retried with back-off,
then failed (visible, and published as notify.delivery_failed). A row being sent is
leased: if its sender dies, another takes it after the lease and hands it to the
channel again with the same idempotency key. One-time codes are kept sealed and
erased once sent, failed or expired (`expired`).
"""

import json
import logging
from datetime import timedelta

from sqlalchemy import select, text, update

from shared.contracts.notify import CATEGORIES, CHANNELS
from shared.db import get_or_add, utcnow
from shared.errors import ValidationError
from shared.tree import subtree_bounds
from services.notify import sealing, templates
from services.notify.models import Delivery, Device, Notification, Preference, Recipient, directory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = timedelta(seconds=60)  # a sender that has not finished a row by then is presumed dead
FIRST_RETRY = timedelta(seconds=2)  # a failed delivery's first retry; each next one waits twice as long, 300 s at most
CODE_VALIDITY = timedelta(minutes=5)  # when the sender does not say (identity's codes live 5 minutes)
NOTICE_VALIDITY = timedelta(days=1)  # a security notice not delivered by then is erased, not sent late
CODE_EVENT_PREFIX = "otp:"
CODES_FIRST = 0  # the priority of codes and security notices, the only sealed deliveries


def invitation_key(member_id):
    # one invitation per member, whichever way it comes (the committee going live, or the member arriving later)
    return f"invitation:{member_id}"


def project_member(session, snapshot):
    """Project the member (shared/directory.py); one who arrives under a live committee without an account is
    invited."""
    change = directory.project_member(session, snapshot)
    recipient = change.row if change is not None else None
    if (
        recipient is not None
        and recipient.in_party
        and not recipient.activated
        and directory.rolled_out(session, recipient.organization_path, ("live",))
    ):
        session.flush()
        notify_member(session, invitation_key(recipient.member_id), recipient.member_id, "invitation")


def member_changed(session, envelope):
    project_member(session, envelope["payload"])


def rollout_changed(session, envelope):
    """members.org_rollout_changed: a committee going live invites everyone below it who has not activated."""
    directory.rollout_changed(session, envelope)
    payload = envelope["payload"]
    if payload["state"] == "live":
        items, messages = invite_subtree(session, payload["organization_path"])
        log.info("rollout: %d inbox items, %d invitations queued", items, messages)


def account_activated(session, envelope):
    """identity.account_activated: the recipient counts as signed in (no more invitations), and is told."""
    member_id = envelope["payload"]["member_id"]
    if directory.mark_activated(session, member_id) is not None:
        notify_member(session, envelope["id"], member_id, "account_activated")


def tell_member(session, envelope):
    """The member an event of members is about hears of it: one inbox item and messages (templates.py), the
    template named by the event (a decided change request: by its decision)."""
    payload = envelope["payload"]
    kind, values = envelope["type"].split(".", 1)[1], {}
    if kind == "change_request_decided":
        kind, values = f"change_request_{payload['decision']}", {"reason": payload.get("reason") or ""}
    notify_member(session, envelope["id"], payload["member_id"], kind, **values)


def _enabled(session, member_id, category, channel):
    if category in templates.MANDATORY:
        return True
    preference = session.get(Preference, {"member_id": member_id, "category": category, "channel": channel})
    return preference is None or preference.enabled


def notify_member(session, event_id, member_id, kind, sms=True, meeting_id=None, **values):
    """An inbox item, and a message on each channel the member can be reached on and has not
    switched off for this category: SMS, e-mail, push to their devices."""
    recipient = session.get(Recipient, member_id)
    if recipient is None:
        return None
    title, body = templates.render(kind, recipient.language, name=recipient.full_name, **values)
    title = title[:255]  # a meeting's own title inside it may be long
    category = templates.CATEGORY[kind]
    exists = session.scalar(
        select(Notification.id).where(Notification.event_id == event_id, Notification.member_id == member_id)
    )
    if exists:
        return None
    session.add(
        Notification(
            member_id=member_id, event_id=event_id, category=category, title=title, body=body, meeting_id=meeting_id
        )
    )
    if sms and recipient.phone and _enabled(session, member_id, category, "sms"):
        session.add(
            Delivery(
                event_id=event_id,
                member_id=member_id,
                channel="sms",
                priority=1,
                destination=recipient.phone,
                text=f"Sổ tay: {body}",
            )
        )
    if recipient.email and _enabled(session, member_id, category, "email"):
        session.add(
            Delivery(
                event_id=event_id,
                member_id=member_id,
                channel="email",
                priority=1,
                destination=recipient.email,
                subject=title,
                text=body,
            )
        )
    if _enabled(session, member_id, category, "push"):
        # one delivery per device: a phone that is off is retried without re-sending to the browser
        for device in session.scalars(select(Device).where(Device.member_id == member_id)):
            session.add(
                Delivery(
                    event_id=event_id,
                    member_id=member_id,
                    channel=f"push:{device.id}",
                    priority=1,
                    subject=title,
                    text=body,
                    destination=json.dumps({"platform": device.platform, "token": device.token}),
                )
            )
    return True


FAN_OUT_SQL = {
    "notifications": """
        INSERT {ignore} INTO notifications (member_id, event_id, category, title, body, created_at)
        SELECT member_id, 'invitation:' || member_id, 'announcements',
               CASE WHEN language = 'en' THEN :title_en ELSE :title_vi END,
               CASE WHEN language = 'en' THEN :body_en ELSE :body_vi END, :now
        FROM directory_members
        WHERE organization_path >= :low AND organization_path < :high AND NOT activated AND in_party
        {on_conflict}""",
    "deliveries": """
        INSERT {ignore} INTO deliveries (event_id, member_id, channel, priority, destination, text, status, attempts,
                                         created_at)
        SELECT 'invitation:' || r.member_id, r.member_id, 'sms', 2, r.phone,
               CASE WHEN r.language = 'en' THEN :sms_en ELSE :sms_vi END, 'pending', 0, :now
        FROM directory_members r
        LEFT JOIN preferences p ON p.member_id = r.member_id AND p.category = 'announcements' AND p.channel = 'sms'
        WHERE r.organization_path >= :low AND r.organization_path < :high AND NOT r.activated AND r.in_party
          AND r.phone IS NOT NULL AND (p.enabled IS NULL OR p.enabled)
        {on_conflict}""",
}


def invite_subtree(session, path):
    """A committee went live: every member below it who has not activated gets an inbox item,
    and an SMS invitation if they have a phone (once each, ever). Returns (inbox items, messages) added."""
    dialect = session.bind.dialect.name
    ignore, on_conflict = ("OR IGNORE", "") if dialect == "sqlite" else ("", "ON CONFLICT DO NOTHING")
    title_vi, body_vi = templates.render("invitation", "vi")
    title_en, body_en = templates.render("invitation", "en")
    now = utcnow() if dialect == "postgresql" else utcnow().replace(tzinfo=None)
    low, high = subtree_bounds(path)
    params = {
        "low": low,
        "high": high,
        "now": now,
        "title_vi": title_vi,
        "title_en": title_en,
        "body_vi": body_vi,
        "body_en": body_en,
        "sms_vi": f"Sổ tay: {body_vi}",
        "sms_en": f"Sổ tay: {body_en}",
    }
    added = []
    for table in ("notifications", "deliveries"):
        sql = FAN_OUT_SQL[table].format(ignore=ignore, on_conflict=on_conflict)
        added.append(session.execute(text(sql), params).rowcount)
    return tuple(added)


def code_delivery(session, request_id, to, text_, expires_at, lease=LEASE):
    """A one-time code: priority 0, sent at once by the caller (who holds its lease), retried by the
    sender if that fails or the caller dies. Its text is kept sealed, and only until it is sent or `expires_at`."""
    now = utcnow()
    delivery = Delivery(
        event_id=f"{CODE_EVENT_PREFIX}{request_id}"[:36],
        member_id=None,
        channel="sms",
        priority=CODES_FIRST,
        destination=to,
        text=sealing.seal(text_),
        sealed=True,
        expires_at=expires_at,
        status="sending",
        attempts=1,
        lease_until=now + lease,
    )
    session.add(delivery)
    session.flush()
    return delivery


def security_notice(uow, request_id, phone, email, subject, text_, expires_at):
    """A security notice ("not me" code): ahead of everything but codes, on SMS and e-mail whatever the
    preferences (security messages cannot be switched off); the sender takes it at once. Sealed like a code:
    its text is a key to freeze the account."""
    for channel, destination in (("sms", phone), ("email", email)):
        if destination:
            uow.session.add(
                Delivery(
                    event_id=f"notice:{request_id}"[:36],
                    member_id=None,
                    channel=channel,
                    priority=CODES_FIRST,
                    destination=destination,
                    subject=subject,
                    text=sealing.seal(text_),
                    sealed=True,
                    expires_at=expires_at,
                    status="pending",
                )
            )


def idempotency_key(delivery_id):
    """What a channel is given to drop a repeat of the same delivery (a re-send after a crash)."""
    return f"sotay-delivery-{delivery_id}"


def expire_codes(session, now=None):
    """Codes no longer valid are never sent: erased, whatever state they were left in. Looked for by their
    priority, on the sender's index, not among every delivery waiting (millions during a national push)."""
    return session.execute(
        update(Delivery)
        .where(
            Delivery.status.in_(("pending", "sending")),
            Delivery.priority == CODES_FIRST,
            Delivery.sealed.is_(True),
            Delivery.expires_at <= (now or utcnow()),
        )
        .values(status="expired", text="")
    ).rowcount


def due_deliveries(session, limit=500, lease=LEASE):
    """Claim a batch to send, each row under a lease: first those whose sender died (lease lapsed),
    then pending and due ones, codes first. A code is unsealed only while still valid."""
    now = utcnow()
    expire_codes(session, now)
    lapsed = select(Delivery).where(Delivery.status == "sending", Delivery.lease_until <= now)
    pending = select(Delivery).where(
        Delivery.status == "pending", (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now)
    )
    rows = []
    for query in (lapsed, pending):
        query = query.order_by(Delivery.priority, Delivery.id).limit(limit - len(rows))
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # several replicas: each row to one sender
        rows += session.scalars(query).all()
        if len(rows) >= limit:
            break
    batch = []
    for row in rows:
        text_ = sealing.unseal(row.text) if row.sealed else row.text
        if text_ is None:  # sealed under a key this replica does not hold: nothing it could send
            row.status, row.text, row.last_error = "failed", "", "unreadable sealed text"
            continue
        row.status = "sending"
        row.lease_until = now + lease
        row.attempts += 1
        batch.append((row.id, row.channel, row.destination, row.subject, text_, row.attempts))
    return batch


def renew_lease(session, delivery_ids, lease=LEASE):
    """The sender is still at it: keep other senders off these rows."""
    if delivery_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == "sending")
            .values(lease_until=utcnow() + lease)
        )


def release(session, delivery_ids):
    """Hand back rows a stopping sender did not get to: pending again, the attempt not counted."""
    if delivery_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == "sending")
            .values(status="pending", lease_until=None, attempts=Delivery.attempts - 1)
        )


def record_outcomes(session, outcomes, first_retry=FIRST_RETRY):
    """outcomes: [(delivery id, error or None)]. Returns the deliveries that failed for good.
    A code's text is erased once it is sent or has failed for good."""
    failed = []
    now = utcnow()
    sent_ids = [delivery_id for delivery_id, error in outcomes if error is None]
    if sent_ids:
        # a row erased with its member while it was being sent stays erased
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(sent_ids), Delivery.status != "erased")
            .values(status="sent", sent_at=now, lease_until=None)
        )
        session.execute(update(Delivery).where(Delivery.id.in_(sent_ids), Delivery.sealed.is_(True)).values(text=""))
    for delivery_id, error in outcomes:
        row = session.get(Delivery, delivery_id) if error is not None else None
        if row is None or row.status == "erased":
            continue
        row.last_error = error[:500]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            if row.sealed:
                row.text = ""
            failed.append(row)
        else:
            row.status, row.lease_until = "pending", None
            row.next_attempt_at = now + min(timedelta(seconds=300), first_retry * 2 ** (row.attempts - 1))
    return failed


def preferences(session, member_id):
    stored = {
        (p.category, p.channel): p.enabled
        for p in session.scalars(select(Preference).where(Preference.member_id == member_id))
    }
    recipient = session.get(Recipient, member_id)
    return {
        "language": recipient.language if recipient else "vi",
        "items": [
            {"category": c, "channel": ch, "enabled": stored.get((c, ch), True), "mandatory": c in templates.MANDATORY}
            for c in CATEGORIES
            for ch in CHANNELS
        ],
    }


def set_preferences(uow, member_id, items, language=None):
    session = uow.session
    if language:
        recipient = session.get(Recipient, member_id)
        if recipient is not None:
            recipient.language = language
    for item in items:
        if item["category"] in templates.MANDATORY and not item["enabled"]:
            raise ValidationError(
                details={
                    "category": [
                        (
                            "Mã xác nhận và tin bảo mật không tắt được. / "
                            "Codes and security messages cannot be switched off."
                        )
                    ]
                }
            )
        preference = get_or_add(
            session, Preference, member_id=member_id, category=item["category"], channel=item["channel"]
        )
        preference.enabled = item["enabled"]
    return preferences(session, member_id)


def register_device(uow, member_id, platform, token):
    session = uow.session
    existing = session.scalar(select(Device).where(Device.member_id == member_id, Device.token == token))
    if existing is None:
        existing = Device(member_id=member_id, platform=platform, token=token)
        session.add(existing)
        session.flush()
    return {"id": existing.id, "platform": existing.platform}
