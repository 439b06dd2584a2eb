"""A member's personal notebook: private notes, optionally about a document or a meeting. The owner alone reads
them; anyone else (an officer, a system administrator) gets 404, as for a note that does not exist."""

from sqlalchemy import select

from shared.contracts.common import decode_cursor, encode_cursor
from shared.db import aware, utcnow
from shared.errors import NotFound
from services.content.models import Note

FIELDS = ("title", "body", "document_id", "meeting_id")


def note_json(note):
    return {
        "id": note.id,
        "title": note.title,
        "body": note.body,
        "document_id": note.document_id,
        "meeting_id": note.meeting_id,
        "created_at": aware(note.created_at).isoformat(),
        "updated_at": aware(note.updated_at).isoformat(),
    }


def _own(session, member_id, note_id):
    note = session.get(Note, note_id)
    if note is None or note.member_id != member_id:
        raise NotFound()
    return note


def listing(session, member_id, cursor=None, limit=50):
    """The member's notes, newest first."""
    statement = select(Note).where(Note.member_id == member_id)
    if cursor:
        (before,) = decode_cursor(cursor, int)
        statement = statement.where(Note.id < before)
    notes = session.scalars(statement.order_by(Note.id.desc()).limit(limit + 1)).all()
    next_cursor = encode_cursor(notes[limit - 1].id) if len(notes) > limit else None
    return {"items": [note_json(note) for note in notes[:limit]], "next_cursor": next_cursor}


def get(session, member_id, note_id):
    return note_json(_own(session, member_id, note_id))


def create(uow, member_id, data):
    now = utcnow()
    note = Note(member_id=member_id, created_at=now, updated_at=now, **{name: data[name] for name in FIELDS})
    uow.session.add(note)
    uow.session.flush()
    return note_json(note)


def update(uow, member_id, note_id, data):
    note = _own(uow.session, member_id, note_id)
    for name in FIELDS:
        if name in data:
            setattr(note, name, data[name])
    note.updated_at = utcnow()
    uow.session.flush()
    return note_json(note)


def delete(uow, member_id, note_id):
    uow.session.delete(_own(uow.session, member_id, note_id))
    return {"deleted": True}
