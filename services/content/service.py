"""content: the nameko entrypoints, thin (what it owns: services/content/README.md)."""

from shared.db import Database
from shared.kit import Service
from services.content.models import Base


class ContentService(Service):
    """RPCs are a line or two each: `@query(caller=MEMBER)` / `@command(caller=MEMBER, body=Schema)` (shared/kit.py)
    hand the domain a session or the unit of work and the caller's principal."""

    name = "content"

    db = Database(Base.metadata)
