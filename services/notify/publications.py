"""Publications (content's documents) in members' inboxes, and their push to the audience's devices. Plain Python.

A publication is ONE row with its audience's organisation paths, however large the audience: whose inbox shows it
is decided by path when the inbox is read (inbox.py), so a member who transfers sees the new branch's publications
at once, and a national publication is in 5.6 M inboxes as soon as one row commits. A member's read state is a row
only once they read it. The push is the one per-member write: queued by a background worker in batches of
`FAN_OUT_BATCH` members, one short commit each, at bulk priority (one-time codes go first).
"""

import json
from datetime import UTC

from marshmallow import EXCLUDE
from sqlalchemy import delete, exists, literal, select, text, tuple_, update

from shared.contracts.content import DocumentPublished, DocumentWithdrawn
from shared.contracts.members import SIGN_IN_OPEN
from shared.db import aware, utcnow
from shared.tree import ancestor_paths, in_subtree, subtree_bounds
from services.notify import templates
from services.notify.models import (
    Delivery,
    Publication,
    PublicationAudience,
    PublicationRead,
    PushFanOut,
    Recipient,
    directory,
)

# A publication's inbox id is this plus its row's id: notifications' ids (one sequence, from 1) never get this far,
# so the two kinds never collide on `POST /me/notifications/{id}/read`, and both stay exact in JavaScript (< 2^53).
PUBLICATION_IDS = 2**52
FAN_OUT_BATCH = 2000  # members looked at per commit of a push fan-out: SQLite's one writer is held ~40 ms
BULK = 2  # the deliveries' priority: after codes (0) and a member's own messages (1)


def inbox_id(publication_id):
    return PUBLICATION_IDS + publication_id


def is_publication(item_id):
    return item_id >= PUBLICATION_IDS


def inbox_category(publication):
    """notify's category of a publication: study material is `study`, everything else `announcements`."""
    return "study" if publication.study or publication.category == "study" else "announcements"


def _utc(moment):
    return moment.astimezone(UTC)  # SQLite keeps wall-clock time: every stored time is UTC


# --- content's events (effects for db.once) ------------------------------------------------------------------------


def published(session, envelope):
    """content.document_published: the publication (or its new version) reaches its audience's inboxes, and its
    push is queued. A version older than the one held, or one published before a withdrawal, changes nothing."""
    data = DocumentPublished(unknown=EXCLUDE).load(envelope["payload"])
    published_at = _utc(data["published_at"])
    row = session.scalar(select(Publication).where(Publication.document_id == data["document_id"]))
    if row is None:
        row = Publication(document_id=data["document_id"])
        session.add(row)
    elif row.withdrawn_at is not None:
        if published_at <= aware(row.withdrawn_at):
            return None
    elif data["version"] <= row.version:
        return None
    revised = row.version is not None and row.version > 0
    row.version, row.category, row.study = data["version"], data["category"], data["study"]
    row.title, row.summary, row.published_at, row.withdrawn_at = data["title"], data["summary"], published_at, None
    session.flush()
    paths = sorted({audience["organization_path"] for audience in data["audience"]})
    session.execute(delete(PublicationAudience).where(PublicationAudience.publication_id == row.id))
    session.add_all(
        PublicationAudience(publication_id=row.id, organization_path=path, published_at=published_at) for path in paths
    )
    _stop_pushes(session, row.id)
    kind = (
        "publication_revised" if revised else "publication_study" if inbox_category(row) == "study" else "publication"
    )
    session.add(
        PushFanOut(
            publication_id=row.id,
            event_id=f"publication:{row.document_id}:{row.version}"[:36],
            ranges=json.dumps(push_ranges(session, paths)),
            kind=kind,
        )
    )
    return row


def withdrawn(session, envelope):
    """content.document_withdrawn: gone from every inbox (its audience rows go; the row stays, withdrawn, so a
    late copy of the publication is known as stale), and what of its push is not sent yet never goes."""
    data = DocumentWithdrawn(unknown=EXCLUDE).load(envelope["payload"])
    row = session.scalar(select(Publication).where(Publication.document_id == data["document_id"]))
    if row is None:  # the withdrawal overtook the publication: remember it, so the publication stays out
        row = Publication(document_id=data["document_id"], version=0, category="news", title="", published_at=utcnow())
        session.add(row)
    row.withdrawn_at = _utc(data["withdrawn_at"])
    session.flush()
    session.execute(delete(PublicationAudience).where(PublicationAudience.publication_id == row.id))
    _stop_pushes(session, row.id)
    return row


def _stop_pushes(session, publication_id):
    """An earlier version's push stops (under way or queued and not all sent yet): the worker expires what of it
    the sender has not sent."""
    session.execute(
        update(PushFanOut)
        .where(PushFanOut.publication_id == publication_id, PushFanOut.status != "stopped")
        .values(status="stopped", after_path=None, after_member=None)
    )


# --- who sees what ------------------------------------------------------------------------------------------------


def reader(session, member_id):
    """The member's directory row if publications reach them: in the party, under a committee that is not
    `disabled` (its own organisation or one above it in pilot or live); else None."""
    member = session.get(Recipient, member_id)
    if member is None or not member.in_party:
        return None
    if not directory.rolled_out(session, member.organization_path, SIGN_IN_OPEN):
        return None
    return member


def _unread_by(member_id):
    return ~exists().where(
        PublicationRead.member_id == member_id,
        PublicationRead.publication_id == PublicationAudience.publication_id,
        PublicationRead.version == Publication.version,
    )


def visible(session, member, unread=False, before=None, limit=50):
    """The publications `member` (a `reader`) sees, newest first, at most `limit + 1`, before `before` ((time, inbox
    id) of the last item of the previous page): one index range per organisation above them (≤ 5), merged."""
    found = {}
    for path in ancestor_paths(member.organization_path):
        query = (
            select(Publication, PublicationAudience.published_at)
            .join(Publication, Publication.id == PublicationAudience.publication_id)
            .where(PublicationAudience.organization_path == path)
            .order_by(PublicationAudience.published_at.desc(), PublicationAudience.publication_id.desc())
            .limit(limit + 1)
        )
        if before is not None:
            moment, item_id = before
            key = tuple_(PublicationAudience.published_at, PublicationAudience.publication_id)
            query = query.where(key < tuple_(literal(moment, key.clauses[0].type), literal(item_id - PUBLICATION_IDS)))
        if unread:
            query = query.where(_unread_by(member.member_id))
        for publication, _ in session.execute(query):
            found[publication.id] = publication
    ordered = sorted(found.values(), key=lambda p: (aware(p.published_at), p.id), reverse=True)
    return ordered[: limit + 1]


def unread_count(session, member):
    paths = ancestor_paths(member.organization_path)
    return len(
        set(
            session.scalars(
                select(PublicationAudience.publication_id)
                .join(Publication, Publication.id == PublicationAudience.publication_id)
                .where(PublicationAudience.organization_path.in_(paths), _unread_by(member.member_id))
            )
        )
    )


def read_states(session, member_id, publications):
    """{publication id: whether `member_id` read its current version}."""
    ids = [p.id for p in publications]
    if not ids:
        return {}
    versions = dict(
        session.execute(
            select(PublicationRead.publication_id, PublicationRead.version).where(
                PublicationRead.member_id == member_id, PublicationRead.publication_id.in_(ids)
            )
        ).all()
    )
    return {p.id: versions.get(p.id) == p.version for p in publications}


def item_json(publication, read):
    return {
        "id": inbox_id(publication.id),
        "kind": "publication",
        "category": inbox_category(publication),
        "title": publication.title,
        "body": publication.summary or "",
        "created_at": aware(publication.published_at).isoformat(),
        "read": read,
        "document_id": publication.document_id,
        "meeting_id": None,
    }


def shown_to(session, member, publication_id):
    """The publication if `member` (a `reader`, or None) sees it, else None."""
    if member is None:
        return None
    return session.scalar(
        select(Publication).where(
            Publication.id == publication_id,
            exists().where(
                PublicationAudience.publication_id == publication_id,
                PublicationAudience.organization_path.in_(ancestor_paths(member.organization_path)),
            ),
        )
    )


def mark_read(session, member_id, publications):
    """The member read these publications (their current versions); returns how many became read."""
    states = read_states(session, member_id, publications)
    marked = 0
    for publication in publications:
        if states[publication.id]:
            continue
        row = session.get(PublicationRead, {"member_id": member_id, "publication_id": publication.id})
        if row is None:
            row = PublicationRead(member_id=member_id, publication_id=publication.id)
            session.add(row)
        row.version, row.read_at = publication.version, utcnow()
        marked += 1
    return marked


def unread_publications(session, member):
    """Every publication `member` sees and has not read (for "mark all read")."""
    paths = ancestor_paths(member.organization_path)
    return session.scalars(
        select(Publication)
        .join(PublicationAudience, Publication.id == PublicationAudience.publication_id)
        .where(PublicationAudience.organization_path.in_(paths), _unread_by(member.member_id))
        .distinct()
    ).all()


# --- the push fan-out ---------------------------------------------------------------------------------------------


def push_ranges(session, audience_paths):
    """The path ranges of the audience that are rolled out (a committee in pilot or live at or above them): the
    subtrees to push to, none inside another."""
    rolled_out = session.scalars(
        select(directory.Organization.path).where(directory.Organization.rollout.in_(SIGN_IN_OPEN))
    ).all()
    roots = set()
    for audience in audience_paths:
        for committee in rolled_out:
            if in_subtree(audience, committee):
                roots.add(audience)
            elif in_subtree(committee, audience):
                roots.add(committee)
    outermost = sorted(p for p in roots if not any(p != q and in_subtree(p, q) for q in roots))
    return [list(subtree_bounds(path)) for path in outermost]


NEXT_BOUNDARY = """
    SELECT organization_path, member_id FROM directory_members
    WHERE organization_path >= :after_path AND organization_path < :high
      AND (organization_path, member_id) > (:after_path, :after_member)
    ORDER BY organization_path, member_id LIMIT 1 OFFSET :skip"""

QUEUE_PUSHES = """
    INSERT {ignore} INTO deliveries (event_id, member_id, channel, priority, destination, subject, text, status,
                                     attempts, created_at)
    SELECT :event_id, m.member_id, 'push:' || d.id, :priority, {device},
           CASE WHEN m.language = 'en' THEN :subject_en ELSE :subject_vi END,
           CASE WHEN m.language = 'en' THEN :text_en ELSE :text_vi END, 'pending', 0, :now
    FROM directory_members m
    JOIN devices d ON d.member_id = m.member_id
    LEFT JOIN preferences p ON p.member_id = m.member_id AND p.category = :category AND p.channel = 'push'
    WHERE m.organization_path >= :after_path AND {upper}
      AND (m.organization_path, m.member_id) > (:after_path, :after_member)
      {until} AND m.in_party AND (p.enabled IS NULL OR p.enabled)
    {on_conflict}"""
# The paths bound the batch as plain column ranges too: the row values alone left the index range open from
# :after_path to the audience's end (SQLite) or its start (PostgreSQL), a scan of the rest of the audience per batch
UPPER = {True: "m.organization_path <= :last_path", False: "m.organization_path < :high"}
UNTIL = "AND (m.organization_path, m.member_id) <= (:last_path, :last_member)"
DEVICE_JSON = {
    "sqlite": "json_object('platform', d.platform, 'token', d.token)",
    "postgresql": "json_build_object('platform', d.platform, 'token', d.token)::text",
}


def push_batch(session, limit=FAN_OUT_BATCH):
    """One step of the oldest push fan-out under way: queue the pushes of the next `limit` members of its ranges
    (or expire `limit` pushes of a stopped one), and record where it stands, in the caller's transaction.
    Returns how many deliveries were queued (or expired), or None when no fan-out is under way."""
    query = select(PushFanOut).where(PushFanOut.status.in_(("running", "stopped"))).order_by(PushFanOut.id).limit(1)
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)  # several replicas: each step of a fan-out to one of them
    job = session.scalar(query)
    if job is None:
        return None
    if job.status == "stopped":
        return _expire_pushes(session, job, limit)
    ranges = json.loads(job.ranges)
    if job.range_index >= len(ranges):
        job.status, job.finished_at = "done", utcnow()
        return 0
    low, high = ranges[job.range_index]
    after = {
        "high": high,
        "after_path": job.after_path or low,
        "after_member": job.after_member if job.after_member is not None else -1,
    }
    boundary = session.execute(text(NEXT_BOUNDARY), {**after, "skip": limit - 1}).first()
    publication = session.get(Publication, job.publication_id)
    ignore, on_conflict = ("OR IGNORE", "") if dialect == "sqlite" else ("", "ON CONFLICT DO NOTHING")
    sql = QUEUE_PUSHES.format(
        ignore=ignore,
        on_conflict=on_conflict,
        device=DEVICE_JSON[dialect],
        upper=UPPER[boundary is not None],
        until=UNTIL if boundary else "",
    )
    queued = session.execute(
        text(sql),
        {
            **after,
            **push_texts(publication, job.kind),
            "event_id": job.event_id,
            "priority": BULK,
            "category": inbox_category(publication),
            "now": utcnow() if dialect == "postgresql" else utcnow().replace(tzinfo=None),
            "last_path": boundary[0] if boundary else None,
            "last_member": boundary[1] if boundary else None,
        },
    ).rowcount
    job.queued += queued
    if boundary is None:
        job.range_index, job.after_path, job.after_member = job.range_index + 1, None, None
    else:
        job.after_path, job.after_member = boundary
    if job.range_index >= len(ranges):
        job.status, job.finished_at = "done", utcnow()
    return queued


def push_texts(publication, kind):
    texts = {}
    for language in ("vi", "en"):
        title, body = templates.render(kind, language, title=publication.title, summary=publication.summary or "")
        texts[f"subject_{language}"], texts[f"text_{language}"] = title[:255], body or publication.title
    return texts


def _expire_pushes(session, job, limit):
    """A withdrawn (or superseded) publication's pushes not yet sent never go: expired in batches, walking the
    pending bulk deliveries in id order (the sender's index; `after_member` holds the last id seen)."""
    ids = session.scalars(
        select(Delivery.id)
        .where(
            Delivery.status == "pending",
            Delivery.priority == BULK,
            Delivery.id > (job.after_member or 0),
            Delivery.event_id == job.event_id,
        )
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(status="expired", text=""))
        job.after_member = ids[-1]
    else:
        job.status, job.finished_at = "done", utcnow()
    return len(ids)
