"""notify dies in the middle of a fan-out (kill -9, or SIGTERM): after a restart every member has exactly
one invitation — rows being sent carry a lease, and the sink drops a repeated idempotency key."""

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from shared import config
from shared.db import standalone_unit
from services.notify.models import Base, Delivery
from tests.support.notify import a_committee_goes_live, sms_sink
from tests.support.waiting import free_port, wait_for


def sink_size():
    path = config.data_dir() / "outbox" / "sms.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


class Notify:
    """notify as its own process, as deployed (`python -m shared.serve notify`)."""

    def __init__(self, settings, log_path):
        self.env = {
            **os.environ,
            **{key: str(value) for key, value in settings.items()},
            "NOTIFY_HTTP_PORT": str(free_port()),
            "SENDER_LEASE_SECONDS": "2",
            "LOG_LEVEL": "WARNING",
            "PYTHONWARNINGS": "ignore",
        }
        self.log = open(log_path, "a")
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.serve", "notify"],
            env=self.env,
            cwd=config.REPO_ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def signal(self, signum):
        self.process.send_signal(signum)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def deliveries_by_status():
    unit, database = standalone_unit(Base.metadata, "notify")
    try:
        return dict(unit.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
    finally:
        unit.close()
        database.engine.dispose()


@pytest.mark.parametrize(
    "signum, members, cut_after",
    [(signal.SIGKILL, 20_000, 2_100), (signal.SIGTERM, 5_000, 550)],
    ids=["kill -9", "SIGTERM"],
)
def test_notify_dying_in_the_middle_of_a_fan_out_loses_and_doubles_nothing(
    prepare, settings, tmp_path, signum, members, cut_after
):
    prepare("notify")
    notify = Notify(settings, tmp_path / "notify.log")
    try:
        a_committee_goes_live(members)
        notify.start()
        wait_for(lambda: sink_size() >= cut_after, timeout=120, interval=0.01, message="the fan-out under way")
        notify.signal(signum)
        if signum == signal.SIGKILL:  # most likely in the middle of a batch of 200: rows left in `sending`
            notify.process.wait(timeout=10)
        else:
            assert notify.process.wait(timeout=5) == 0  # stops within 5 s…
            assert "sending" not in deliveries_by_status()  # …handing back what it did not send
        notify.start()
        wait_for(
            lambda: deliveries_by_status() == {"sent": members},
            timeout=180,
            interval=0.5,
            message="every invitation sent after the restart",
        )
        lines = sms_sink()
        assert len(lines) == members
        assert len({line["to"] for line in lines}) == members
    finally:
        notify.stop()
