"""notify dies in the middle of a fan-out (kill -9, or SIGTERM): after a restart every member has exactly
one invitation — rows being sent carry a lease, and the sink drops a repeated idempotency key."""
import json
import os
import signal
import subprocess
import sys

import pytest
from nameko.amqp.publish import get_producer
from sqlalchemy import func, insert, select

from shared import config
from shared.db import standalone_unit
from shared.events import envelope
from shared.topology import events_exchange
from services.notify.models import Base, Delivery, Recipient
from tests.support.waiting import free_port, wait_for


def sink():
    path = config.data_dir() / "outbox" / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sink_size():
    path = config.data_dir() / "outbox" / "sms.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


class Notify:
    """notify as its own process, as deployed (`python -m shared.serve notify`)."""

    def __init__(self, settings, log_path):
        self.env = {**os.environ, **{key: str(value) for key, value in settings.items()},
                    "NOTIFY_HTTP_PORT": str(free_port()), "SENDER_LEASE_SECONDS": "2", "LOG_LEVEL": "WARNING",
                    "PYTHONWARNINGS": "ignore"}
        self.log = open(log_path, "a")
        self.process = None

    def start(self):
        self.process = subprocess.Popen([sys.executable, "-m", "shared.serve", "notify"], env=self.env,
                                        cwd=config.REPO_ROOT, stdout=self.log, stderr=subprocess.STDOUT)

    def signal(self, signum):
        self.process.send_signal(signum)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def members_of_a_live_committee(count):
    unit, database = standalone_unit(Base.metadata, "notify")
    with unit.transaction() as session:
        session.execute(insert(Recipient), [
            {"member_id": n, "full_name": f"Đảng viên {n}", "organization_path": f"/1/2/{3 + n % 100}/",
             "phone": f"+8491{n:07d}", "language": "vi", "activated": False, "in_party": True}
            for n in range(1, count + 1)])
    unit.close()
    database.engine.dispose()
    with get_producer(config.amqp_uri()) as producer:
        producer.publish(envelope("members.org_rollout_changed", {"organization_id": 2, "organization_path": "/1/2/",
                                                                  "state": "live"}),
                         exchange=events_exchange("members"), routing_key="members.org_rollout_changed",
                         serializer="json", delivery_mode=2)


def deliveries_by_status():
    unit, database = standalone_unit(Base.metadata, "notify")
    try:
        return dict(unit.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
    finally:
        unit.close()
        database.engine.dispose()


@pytest.mark.parametrize("signum, members, cut_after", [(signal.SIGKILL, 20_000, 2_100), (signal.SIGTERM, 5_000, 550)],
                         ids=["kill -9", "SIGTERM"])
def test_notify_dying_in_the_middle_of_a_fan_out_loses_and_doubles_nothing(prepare, settings, tmp_path, signum,
                                                                            members, cut_after):
    prepare("notify")
    notify = Notify(settings, tmp_path / "notify.log")
    try:
        members_of_a_live_committee(members)
        notify.start()
        wait_for(lambda: sink_size() >= cut_after, timeout=120, interval=0.01, message="the fan-out under way")
        notify.signal(signum)
        if signum == signal.SIGKILL:   # most likely in the middle of a batch of 200: rows left in `sending`
            notify.process.wait(timeout=10)
        else:
            assert notify.process.wait(timeout=5) == 0          # stops within 5 s…
            assert "sending" not in deliveries_by_status()      # …handing back what it did not send
        notify.start()
        wait_for(lambda: deliveries_by_status() == {"sent": members}, timeout=180, interval=0.5,
                 message="every invitation sent after the restart")
        lines = sink()
        assert len(lines) == members
        assert len({line["to"] for line in lines}) == members
    finally:
        notify.stop()
