"""A member's inbox: their own notifications and the publications their organisations see, as one list, newest
first, one cursor over both kinds. Plain Python.

Items are ordered by (time, inbox id), descending; a publication's inbox id is above every notification's
(publications.PUBLICATION_IDS), so the pair orders every item exactly and a cursor is that pair of the last item.
"""

from datetime import UTC, datetime

from sqlalchemy import func, literal, select, tuple_, update

from shared.contracts.common import NOT_A_CURSOR, decode_cursor, encode_cursor
from shared.db import aware, utcnow
from shared.errors import NotFound, ValidationError
from services.notify import publications
from services.notify.models import Notification

ROW_IDS = 2**31 - 1  # the largest id an integer column holds


def inbox(session, member_id, unread=None, cursor=None, limit=50):
    before = _decode(cursor) if cursor else None
    query = select(Notification).where(Notification.member_id == member_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        moment, item_id = before
        if publications.is_publication(item_id):  # every message of that moment comes after a publication
            query = query.where(Notification.created_at <= moment)
        else:
            key = tuple_(Notification.created_at, Notification.id)
            query = query.where(key < tuple_(literal(moment, key.clauses[0].type), literal(item_id)))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
    items = [(aware(n.created_at), n.id, n) for n in session.scalars(query)]
    member = publications.reader(session, member_id)
    if member is not None:
        shown = publications.visible(session, member, unread=bool(unread), before=before, limit=limit)
        items += [(aware(p.published_at), publications.inbox_id(p.id), p) for p in shown]
    items.sort(key=lambda item: item[:2], reverse=True)
    page, more = items[:limit], len(items) > limit
    states = publications.read_states(
        session, member_id, [row for _, item_id, row in page if publications.is_publication(item_id)]
    )
    unread_count = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.member_id == member_id, Notification.read_at.is_(None))
    )
    if member is not None:
        unread_count += publications.unread_count(session, member)
    return {
        "items": [
            publications.item_json(row, states[row.id])
            if publications.is_publication(item_id)
            else notification_json(row)
            for _, item_id, row in page
        ],
        "next_cursor": encode_cursor(page[-1][0].isoformat(), page[-1][1]) if more else None,
        "unread": unread_count,
    }


def _decode(cursor):
    moment, item_id = decode_cursor(cursor, str, int)
    try:
        moment = datetime.fromisoformat(moment)
    except ValueError:
        moment = None
    row_id = item_id - publications.PUBLICATION_IDS if publications.is_publication(item_id) else item_id
    if moment is None or moment.tzinfo is None or row_id > ROW_IDS:
        raise ValidationError(details={"cursor": [NOT_A_CURSOR]})
    return moment.astimezone(UTC), item_id  # SQLite compares stored UTC wall-clock time


def notification_json(n):
    return {
        "id": n.id,
        "kind": "notification",
        "category": n.category,
        "title": n.title,
        "body": n.body,
        "created_at": aware(n.created_at).isoformat(),
        "read": n.read_at is not None,
        "document_id": None,
        "meeting_id": n.meeting_id,
    }


def mark_read(uow, member_id, item_id=None):
    """One item of the member's inbox read (a notification of theirs, or a publication they see: else 404), or
    every item (`item_id` None). Returns how many became read."""
    session = uow.session
    if item_id is not None and publications.is_publication(item_id):
        member = publications.reader(session, member_id)
        publication_id = item_id - publications.PUBLICATION_IDS
        publication = publications.shown_to(session, member, publication_id) if publication_id <= ROW_IDS else None
        if publication is None:
            raise NotFound()
        return {"marked": publications.mark_read(session, member_id, [publication])}
    query = update(Notification).where(Notification.member_id == member_id, Notification.read_at.is_(None))
    if item_id is not None:
        if (
            item_id > ROW_IDS
            or session.scalar(select(Notification.member_id).where(Notification.id == item_id)) != member_id
        ):
            raise NotFound()  # someone else's is not theirs to know of
        return {"marked": session.execute(query.where(Notification.id == item_id).values(read_at=utcnow())).rowcount}
    changed = session.execute(query.values(read_at=utcnow())).rowcount
    member = publications.reader(session, member_id)
    if member is not None:
        changed += publications.mark_read(session, member_id, publications.unread_publications(session, member))
    return {"marked": changed}
