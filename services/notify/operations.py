"""What an operator sees of deliveries: `python -m services.notify.operations [failed]`.

Counts by channel and status, the publications' push fan-outs not yet finished, and the latest failures with their
reasons (no message text: it may carry codes). Failures are also published as notify.delivery_failed and counted in
`sotay_deliveries_total{outcome="failed"}`.
"""

import json
import sys

from sqlalchemy import case, func, select

from shared import config
from shared.db import standalone_unit
from services.notify.models import Base, Delivery, PushFanOut


def summary(session, failures=20):
    channel = case((Delivery.channel.like("push:%"), "push"), else_=Delivery.channel)  # not one line a device
    counts = session.execute(select(channel, Delivery.status, func.count()).group_by(channel, Delivery.status)).all()
    fan_outs = session.scalars(select(PushFanOut).where(PushFanOut.status != "done").order_by(PushFanOut.id)).all()
    failed = session.scalars(
        select(Delivery).where(Delivery.status == "failed").order_by(Delivery.id.desc()).limit(failures)
    ).all()
    return {
        "by_channel_and_status": {f"{channel}/{status}": n for channel, status, n in counts},
        "push_fan_outs_under_way": [
            {"event_id": f.event_id, "status": f.status, "queued": f.queued, "since": f.created_at.isoformat()}
            for f in fan_outs
        ],
        "latest_failures": [
            {"id": d.id, "channel": d.channel, "member_id": d.member_id, "attempts": d.attempts, "error": d.last_error}
            for d in failed
        ],
    }


def main(argv=None):
    config.load("notify")
    unit, database = standalone_unit(Base.metadata, "notify", "notify.operations")
    try:
        print(json.dumps(summary(unit.session), indent=2, ensure_ascii=False))
    finally:
        unit.close()
        database.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
