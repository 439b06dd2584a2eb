"""notify's side of a test: its SMS sink, and a committee of many members going live."""

import json

from nameko.amqp.publish import get_producer
from sqlalchemy import insert

from shared import config
from shared.db import standalone_unit
from shared.events import envelope
from shared.topology import events_exchange


def sms_sink():
    """What the embedded default's SMS sink holds (`$DATA_DIR/outbox/sms.jsonl`), one dict a message."""
    path = config.data_dir() / "outbox" / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def a_committee_goes_live(count):
    """`count` members, none activated, in notify's own projection under committee /1/2/; then the committee
    goes live (members' event), which invites each of them by SMS."""
    from services.notify.models import Base, Recipient

    unit, database = standalone_unit(Base.metadata, "notify")
    with unit.transaction() as session:
        session.execute(
            insert(Recipient),
            [
                {
                    "member_id": n,
                    "full_name": f"Đảng viên {n}",
                    "organization_id": 3 + n % 100,
                    "organization_path": f"/1/2/{3 + n % 100}/",
                    "status": "official",
                    "phone": f"+8491{n:07d}",
                    "language": "vi",
                    "activated": False,
                    "in_party": True,
                }
                for n in range(1, count + 1)
            ],
        )
    unit.close()
    database.engine.dispose()
    with get_producer(config.amqp_uri()) as producer:
        producer.publish(
            envelope(
                "members.org_rollout_changed", {"organization_id": 2, "organization_path": "/1/2/", "state": "live"}
            ),
            exchange=events_exchange("members"),
            routing_key="members.org_rollout_changed",
            serializer="json",
            delivery_mode=2,
        )


def audience(*paths):
    """content's audience: organisations by path (the id is the path's last)."""
    return [{"organization_id": int(p.rstrip("/").rsplit("/", 1)[1]), "organization_path": p} for p in paths]


def publication(document_id, *paths, version=1, category="news", study=False, at=None, title=None):
    """content.document_published's payload."""
    from shared.db import utcnow

    return {
        "document_id": document_id,
        "version": version,
        "category": category,
        "title": title or f"Văn bản {document_id}",
        "summary": f"Tóm tắt {document_id}",
        "study": study,
        "audience": audience(*paths),
        "published_at": (at or utcnow()).isoformat(),
        "author_member_id": None,
    }


def withdrawal(document_id, *paths, at=None):
    """content.document_withdrawn's payload."""
    from shared.db import utcnow

    return {"document_id": document_id, "audience": audience(*paths), "withdrawn_at": (at or utcnow()).isoformat()}


def handled(uow, event_type, payload):
    """notify's effect of a content event, as its handler applies it (in one transaction)."""
    from services.notify import publications

    effect = {
        "content.document_published": publications.published,
        "content.document_withdrawn": publications.withdrawn,
    }
    with uow.transaction() as session:
        return effect[event_type](session, envelope(event_type, payload))


def drain_pushes(uow, limit=None):
    """The push fan-out worker's steps until no fan-out is under way; returns how many steps it took."""
    from services.notify import publications

    steps = 0
    while True:
        with uow.transaction() as session:
            if publications.push_batch(session, limit or publications.FAN_OUT_BATCH) is None:
                return steps
        steps += 1
