"""content: the nameko entrypoints, thin (what it owns: services/content/README.md)."""
from shared.auth import Caller
from shared.db import Database
from shared.metrics import Telemetry
from shared.operations import Operations
from services.content.models import Base


class ContentService(Operations):
    name = "content"

    db = Database(Base.metadata)
    caller = Caller()
    telemetry = Telemetry()
