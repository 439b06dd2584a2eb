"""meetings' contract: branch meetings, their events, bodies and errors (none published yet)."""

EVENTS = {}
