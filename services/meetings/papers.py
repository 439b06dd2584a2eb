"""An agenda's papers (issue 12): content's documents, published, whose audience reaches the meeting's
organisation, so that everyone invited may read them. Plain Python, no nameko.

Scheduling or changing a meeting with papers goes in steps: read who runs it and where, ask content (`reaching`:
`(organization_path, document_ids) -> the ids that reach it`) with no transaction open, since SQLite's single writer
must not wait on another service; then the meeting's own transaction. Content unreachable is 503 (its RPC raises
ServiceUnavailable), never a meeting scheduled with papers unchecked. An agenda without papers asks nobody.
"""

from shared.db import utcnow
from shared.errors import ValidationError
from services.meetings import domain
from services.meetings.access import path_of


def asked(agenda):
    """The agenda's document ids, in order, each once."""
    return list(dict.fromkeys(i for item in agenda or () for i in item.get("document_ids") or ()))


def check(reaching, organization_path, agenda):
    """Our 400 on `agenda`, naming the ids, unless every paper reaches the organisation."""
    ids = asked(agenda)
    if not ids:
        return
    found = set(reaching(organization_path, ids))
    missing = [i for i in ids if i not in found]
    if missing:
        listed = ", ".join(str(i) for i in missing)
        message = (
            f"Tài liệu {listed} không tồn tại, chưa đăng hoặc không gửi tới tổ chức này. / Documents {listed} do not "
            "exist, are not published, or do not reach this organisation."
        )
        raise ValidationError(details={"agenda": [message]})


def schedule_meeting(unit, member_id, organization_id, data, reaching, now=None):
    if asked(data.get("agenda")):
        with unit.reading() as session:
            path = domain.schedulable(session, member_id, organization_id).path
        check(reaching, path, data["agenda"])
    with unit.transaction():
        return domain.schedule_meeting(unit, member_id, organization_id, data, now)


def update_meeting(unit, member_id, meeting_id, data, reaching, now=None):
    now = now or utcnow()
    if asked(data.get("agenda")):
        with unit.reading() as session:
            path = path_of(session, domain.runnable(session, member_id, meeting_id, now))
        check(reaching, path, data["agenda"])
    with unit.transaction():
        return domain.update_meeting(unit, member_id, meeting_id, data, now)
