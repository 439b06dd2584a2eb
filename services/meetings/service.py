"""meetings: the nameko entrypoints, thin (what it owns: services/meetings/README.md)."""
from shared.auth import Caller
from shared.db import Database
from shared.metrics import Telemetry
from shared.operations import Operations
from services.meetings.models import Base


class MeetingsService(Operations):
    name = "meetings"

    db = Database(Base.metadata)
    caller = Caller()
    telemetry = Telemetry()
