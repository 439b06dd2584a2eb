"""Fan-out: a committee of 100,000 members goes live → inbox items and SMS for all of them,
while one-time codes keep flowing. `python -m bench.fanout [--members N]`.

notify runs as its own process (as `make run` starts it) on a throw-away vhost; its
projection of members is filled directly; the rollout event is published the way
members publishes it; codes are requested over RPC every 100 ms during the fan-out.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager

warnings.filterwarnings("ignore", category=DeprecationWarning)

import eventlet  # noqa: E402

eventlet.monkey_patch()

from kombu import Connection  # noqa: E402
from nameko.amqp.publish import get_producer  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from shared import migrations, topology  # noqa: E402
from shared.db import standalone_unit  # noqa: E402
from shared.events import envelope  # noqa: E402
from shared.rpc import service_client  # noqa: E402
from tests.support import rabbit  # noqa: E402
from tests.support.waiting import free_port, wait_for  # noqa: E402


@contextmanager
def notify_alone(prefix, fill, **environment):
    """notify as its own process on a throw-away vhost and data directory, its database migrated and filled by
    `fill(unit)` before it starts; yields (AMQP URI, a unit of work on its database)."""
    vhost, uri = rabbit.create_vhost(prefix)
    data_dir = tempfile.mkdtemp(prefix=f"{prefix.replace('_', '-')}-")
    env = {
        **os.environ,
        "AMQP_URI": uri,
        "DATA_DIR": data_dir,
        "NOTIFY_HTTP_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
        "SENDER_POLL_INTERVAL": "0.2",
        **environment,
    }
    os.environ.update({"AMQP_URI": uri, "DATA_DIR": data_dir})
    from nameko import config as nameko_config

    nameko_config.update({"AMQP_URI": uri, "DATA_DIR": data_dir})
    from shared.serve import service_class
    from services.notify.models import Base

    migrations.upgrade("notify")
    with Connection(uri) as conn:
        topology.declare_service(conn, service_class("notify"))
    unit, database = standalone_unit(Base.metadata, "notify")
    fill(unit)
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.serve", "notify"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: _healthy(env["NOTIFY_HTTP_PORT"]), timeout=30, message="notify")
        yield uri, unit
    finally:
        process.terminate()
        process.wait(timeout=20)
        unit.close()
        database.engine.dispose()
        rabbit.delete_vhost(vhost)
        shutil.rmtree(data_dir, ignore_errors=True)


def publish(uri, event_type, payload):
    """An event as its producer's outbox relay publishes it."""
    with get_producer(uri) as producer:
        producer.publish(
            envelope(event_type, payload),
            exchange=topology.events_exchange(event_type.split(".", 1)[0]),
            routing_key=event_type,
            serializer="json",
            delivery_mode=2,
        )


def codes_until(uri, done, started, limit=300):
    """Ask for a one-time code every 100 ms (as identity does) until `done()`; returns the latencies (s)."""
    latencies = []
    with service_client("identity", uri=uri) as client:  # codes are sent for identity
        while not done():
            if time.perf_counter() - started > limit:
                raise SystemExit(f"not done within {limit} s")
            asked = time.perf_counter()
            client.notify.send_otp({"to": "+84900000000", "text": "Sổ tay: mã 123456"})
            latencies.append(time.perf_counter() - asked)
            time.sleep(0.1)
    return latencies


def percentile(values, n):
    return statistics.quantiles(values, n=100)[n - 1] if len(values) >= 2 else values[0]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_FANOUT", 100_000)))
    args = parser.parse_args(argv)
    from services.notify.models import Delivery, Notification, Recipient

    def fill(unit):
        rows = [
            {
                "member_id": n,
                "full_name": f"Đảng viên {n}",
                "organization_id": 3 + n % 3000,
                "organization_path": f"/1/2/{3 + n % 3000}/",
                "status": "official",
                "phone": f"+8491{n:07d}",
                "language": "vi",
                "activated": False,
                "in_party": True,
            }
            for n in range(1, args.members + 1)
        ]
        with unit.transaction() as session:
            for start in range(0, len(rows), 20_000):
                session.execute(insert(Recipient), rows[start : start + 20_000])

    with notify_alone("sotay_fanout", fill) as (uri, unit):
        started = time.perf_counter()
        publish(
            uri, "members.org_rollout_changed", {"organization_id": 2, "organization_path": "/1/2/", "state": "live"}
        )

        def all_sent():
            with unit.transaction() as session:
                sent = session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.status == "sent", Delivery.priority == 2)
                )
                items = session.scalar(select(func.count()).select_from(Notification))
            return sent >= args.members and items >= args.members

        latencies = codes_until(uri, all_sent, started)
        elapsed = time.perf_counter() - started
    print(f"\nfan-out — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores")
    print(f"{args.members:,} inbox items and SMS written in {elapsed:.1f} s (target: within 60 s)")
    print(
        f"one-time codes during it: {len(latencies)} sent, p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms (target p99 < 2 s)"
    )


def _healthy(port):
    """Broker and database reachable: no identity runs here, so ended sessions are never restored (no
    member calls notify in this run; codes come with identity's service token)."""
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            body = response.read()
    except urllib.error.HTTPError as refused:
        body = refused.read()
    except OSError:
        return False
    checks = json.loads(body).get("checks", {})
    return bool(checks.get("broker") and checks.get("database"))


if __name__ == "__main__":
    main()
