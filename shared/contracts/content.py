"""content's contract: documents and study material, their events, bodies and errors (none published yet)."""

EVENTS = {}
