"""A member's data in content: theirs to take, and erased when members orders it (members decides an erasure: an
administrator asked, with a reason; services/members/privacy.py).

Export: their read receipts, bookmarks, quiz results and notes. Erasure: all of those go, and their entry in
content's directory; the documents they wrote stay (the party's, not theirs), naming their member id only.
`erasures` records who asked, when and why."""

from sqlalchemy import delete, select

from shared.db import aware
from shared.errors import NotFound
from services.content import progress
from services.content.models import Bookmark, Erasure, Note, Read, StudyResult, directory
from services.content.notes import note_json


def export(session, principal, member_id):
    """Everything content keeps about `member_id`, for that member alone."""
    if member_id != principal.member_id:
        raise NotFound()
    reads = session.execute(
        select(Read.document_id, Read.read_at).where(Read.member_id == member_id).order_by(Read.read_at)
    )
    bookmarks = session.execute(
        select(Bookmark.document_id, Bookmark.created_at)
        .where(Bookmark.member_id == member_id)
        .order_by(Bookmark.created_at)
    )
    notes = session.scalars(select(Note).where(Note.member_id == member_id).order_by(Note.id))
    results = session.scalars(
        select(StudyResult).where(StudyResult.member_id == member_id).order_by(StudyResult.document_id)
    )
    return {
        "reads": [{"document_id": d, "read_at": aware(at).isoformat()} for d, at in reads],
        "bookmarks": [{"document_id": d, "bookmarked_at": aware(at).isoformat()} for d, at in bookmarks],
        "quiz_results": [
            {
                "document_id": r.document_id,
                "attempts": r.attempts,
                "best_score": r.best_score,
                "passed": r.passed,
                "last_attempt_at": aware(r.last_attempt_at).isoformat(),
            }
            for r in results
        ],
        "notes": [note_json(note) for note in notes],
    }


def erase(uow, principal, member_id, reason):
    """Erase what content keeps of `member_id` (members' order for the administrator `principal`), without
    reading it. Answers how many of what went, never what."""
    session = uow.session
    progress.forget(session, member_id)  # before the rows it counts go
    done = {
        "reads": session.execute(delete(Read).where(Read.member_id == member_id)).rowcount,
        "bookmarks": session.execute(delete(Bookmark).where(Bookmark.member_id == member_id)).rowcount,
        "quiz_results": session.execute(delete(StudyResult).where(StudyResult.member_id == member_id)).rowcount,
        "notes": session.execute(delete(Note).where(Note.member_id == member_id)).rowcount,
    }
    directory.erase(session, member_id)
    Erasure.record(session, member_id, principal, reason, uow.context)
    return done
