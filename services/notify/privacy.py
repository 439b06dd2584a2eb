"""A member's data in notify: theirs to take, and erased when members orders it (members decides an erasure:
an administrator asked, with a reason; services/members/privacy.py).

Export: what notify keeps to reach them (name, phone, e-mail, language), their preferences, devices, inbox, the
publications they read, and the messages sent to them. Erasure: their inbox, what they read, devices, preferences
and their entry in notify's directory go; the
messages to them (and the codes and notices sent to their phone or e-mail) lose whom they went to and what they said,
and those not yet sent never go. A message's row stays: its id is the idempotency key channels drop repeats by, so it
must never be given to another message. `erasures` records who asked, when and why.
"""

from sqlalchemy import case, delete, null, or_, select, update

from shared.db import aware
from shared.errors import NotFound
from services.notify import domain, inbox as inboxes
from services.notify.models import (
    Delivery,
    Device,
    Erasure,
    Notification,
    Preference,
    Publication,
    PublicationRead,
    Recipient,
    directory,
)


def export(session, principal, member_id):
    """Everything notify keeps about `member_id`, for that member alone."""
    if member_id != principal.member_id:
        raise NotFound()
    recipient = session.get(Recipient, member_id)
    devices = session.scalars(select(Device).where(Device.member_id == member_id).order_by(Device.id))
    inbox = session.scalars(select(Notification).where(Notification.member_id == member_id).order_by(Notification.id))
    messages = session.scalars(select(Delivery).where(Delivery.member_id == member_id).order_by(Delivery.id))
    reads = session.execute(
        select(Publication.document_id, PublicationRead.version, PublicationRead.read_at)
        .join(Publication, Publication.id == PublicationRead.publication_id)
        .where(PublicationRead.member_id == member_id)
        .order_by(PublicationRead.read_at)
    )
    return {
        "contact": recipient
        and {
            "full_name": recipient.full_name,
            "phone": recipient.phone,
            "email": recipient.email,
            "language": recipient.language,
        },
        "preferences": domain.preferences(session, member_id)["items"],
        "devices": [{"platform": d.platform, "registered_at": aware(d.created_at).isoformat()} for d in devices],
        "inbox": [inboxes.notification_json(n) for n in inbox],
        "publications_read": [
            {"document_id": document_id, "version": version, "read_at": aware(read_at).isoformat()}
            for document_id, version, read_at in reads
        ],
        "messages": [
            {
                "channel": m.channel.split(":", 1)[0],
                "destination": m.destination,
                "subject": m.subject,
                "text": m.text,
                "status": m.status,
                "created_at": aware(m.created_at).isoformat(),
            }
            for m in messages
        ],
    }


def erase(uow, principal, member_id, reason):
    """Erase what notify keeps of `member_id` (members' order for the administrator `principal`). Answers how many
    of what went, never what."""
    session = uow.session
    recipient = session.get(Recipient, member_id)
    reached_at = {recipient.phone, recipient.email} - {None} if recipient is not None else set()
    done = {
        "messages": session.execute(
            update(Delivery)
            .where(
                or_(
                    Delivery.member_id == member_id, Delivery.member_id.is_(None) & Delivery.destination.in_(reached_at)
                )
            )
            .values(
                member_id=null(),
                destination="",
                subject=null(),
                text="",
                status=case((Delivery.status.in_(("pending", "sending")), "erased"), else_=Delivery.status),
            )
        ).rowcount,
        "inbox": _delete(session, Notification, Notification.member_id == member_id),
        "publications_read": _delete(session, PublicationRead, PublicationRead.member_id == member_id),
        "devices": _delete(session, Device, Device.member_id == member_id),
        "preferences": _delete(session, Preference, Preference.member_id == member_id),
    }
    directory.erase(session, member_id)
    Erasure.record(session, member_id, principal, reason, uow.context)
    return done


def _delete(session, model, *where):
    return session.execute(delete(model).where(*where)).rowcount
