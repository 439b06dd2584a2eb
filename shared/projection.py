"""Keeping a projection of another service's data: the bulk re-read after a bulk change."""

import eventlet

# rows applied per commit: a re-read shares its process (and SQLite's single writer) with sign-ins and
# reads, so it holds the writer briefly and yields between rows (SQLite works in C without yielding)
ROWS_PER_COMMIT = 100


def reread_members(unit, members_rpc, envelope, apply, page_size=2000):
    """After members.members_imported: read the members changed since the import started, a
    page at a time, applied in small commits (upserts: a retry part-way reads them again); the
    event is recorded as handled only at the end."""
    with unit.transaction():
        if unit.processed(envelope):
            return
    since, after = envelope["payload"]["updated_since"], 0
    until = envelope["payload"].get("updated_until")  # absent from events written before it was added
    while True:
        page = members_rpc.member_snapshots(after, page_size, since, until)
        if not page:
            break
        for start in range(0, len(page), ROWS_PER_COMMIT):
            with unit.transaction() as session:
                for snapshot in page[start : start + ROWS_PER_COMMIT]:
                    apply(session, snapshot)
                    eventlet.sleep(0)
            eventlet.sleep(0)  # whoever waits for the writer goes next
        after = page[-1]["member_id"]
    with unit.transaction():
        unit.claim(envelope)
