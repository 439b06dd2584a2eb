"""What an operator sees of deliveries: `python -m services.notify.operations [failed]`.

Counts by channel and status, and the latest failures with their reasons (no message text:
it may carry codes). Failures are also published as notify.delivery_failed and counted in
`sotay_deliveries_total{outcome="failed"}`.
"""

import json
import sys

from sqlalchemy import func, select

from shared import config
from shared.db import standalone_unit
from services.notify.models import Base, Delivery


def summary(session, failures=20):
    counts = session.execute(
        select(Delivery.channel, Delivery.status, func.count()).group_by(Delivery.channel, Delivery.status)
    ).all()
    failed = session.scalars(
        select(Delivery).where(Delivery.status == "failed").order_by(Delivery.id.desc()).limit(failures)
    ).all()
    return {
        "by_channel_and_status": {f"{channel}/{status}": n for channel, status, n in counts},
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
