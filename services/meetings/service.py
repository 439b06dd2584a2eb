"""meetings: the nameko entrypoints, thin (what it owns: services/meetings/README.md)."""

from shared.db import Database
from shared.kit import Service
from services.meetings.models import Base


class MeetingsService(Service):
    """RPCs are a line or two each: `@query(caller=MEMBER)` / `@command(caller=MEMBER, body=Schema)` (shared/kit.py)
    hand the domain a session or the unit of work and the caller's principal."""

    name = "meetings"

    db = Database(Base.metadata)
