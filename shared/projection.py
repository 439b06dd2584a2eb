"""Keeping a projection of another service's data: the bulk re-read after a bulk change."""


def reread_members(unit, members_rpc, envelope, apply, page_size=2000):
    """After members.members_imported: read the members changed since the import started, a
    page at a time, each page its own commit (upserts: a retry part-way reads them again); the
    event is recorded as handled only at the end."""
    with unit.transaction():
        if unit.processed(envelope):
            return
    since, after = envelope["payload"]["updated_since"], 0
    while True:
        page = members_rpc.member_snapshots(after, page_size, since)
        if not page:
            break
        with unit.transaction() as session:
            for snapshot in page:
                apply(session, snapshot)
        after = page[-1]["member_id"]
    with unit.transaction():
        unit.claim(envelope)
