"""Issue 8 item 8: on a broker set up as deploy/rabbitmq/definitions.json sets it up, each service
publishes only its own events and reads only its own queues (and the queues of its processes' own: the gateway's
of members' events).

The embedded default keeps one broker user; here each service runs as its own process under its own
user, with exactly the permissions of definitions.json (in a vhost of this test's own).
"""

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import amqp.exceptions
import eventlet
import pytest
from kombu import Connection
from sqlalchemy import func, select

from shared import config, registry
from shared.events import envelope
from services.gateway.versions import KnownVersions, MemberChangesFeed
from tests.support import rabbit
from tests.support.waiting import free_port, wait_for

DEFINITIONS = config.REPO_ROOT / "deploy" / "rabbitmq" / "definitions.json"


@pytest.fixture
def broker_users(vhost):
    """{service: AMQP URI as that service's user} in this test's vhost."""
    name = vhost.rsplit("/", 1)[1]
    permissions = {p["user"]: p for p in json.loads(DEFINITIONS.read_text())["permissions"] if p["vhost"] == "sotay"}
    suffix = secrets.token_hex(4)
    created, uris = [], {}
    try:
        for service in registry.names():
            user = f"{service}-{suffix}"
            uris[service] = rabbit.create_user(user, secrets.token_hex(12), name, permissions[service])
            created.append(user)
        yield uris
    finally:
        for user in created:
            rabbit.delete_user(user)


def _python(env, *args):
    _python_each({args[-1]: (env, *args)})


def _python_each(commands):
    """{name: (env, *args)}: every command at once; each must succeed."""
    running = {
        name: subprocess.Popen(
            [sys.executable, *args],
            env=env,
            cwd=config.REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (env, *args) in commands.items()
    }
    for name, process in running.items():
        _, stderr = process.communicate()
        assert process.returncode == 0, f"{name}: {stderr[-3000:]}"


def _healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def suite(broker_users, tmp_path):
    """members and identity prepared, seeded and running, each as its own broker user."""
    base = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "var"),
        "HTTP_HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
        "OUTBOX_POLL_INTERVAL": "0.1",
    }
    envs = {
        service: {**base, "AMQP_URI": broker_users[service], f"{service.upper()}_HTTP_PORT": str(free_port())}
        for service in ("identity", "members")
    }
    processes = []
    try:
        # each service prepared, and then started, beside the other: a process mostly imports, on two cores
        _python_each({service: (env, "-m", "shared.cli", "prepare", service) for service, env in envs.items()})
        _python(envs["members"], "-m", "services.members.seed")
        for service, env in envs.items():
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "shared.serve", service],
                    env=env,
                    cwd=config.REPO_ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for service, env in envs.items():
            port = env[f"{service.upper()}_HTTP_PORT"]
            wait_for(
                lambda port=port: _healthy(port), timeout=30, message=f"{service} healthy under its own broker user"
            )
        yield Path(base["DATA_DIR"])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def _projected_members(data_dir):
    from sqlalchemy import create_engine

    from services.identity.models import DirectoryEntry

    engine = create_engine(f"sqlite:///{data_dir / 'identity.db'}")
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(DirectoryEntry)).scalar()
    finally:
        engine.dispose()


def _publish(uri, exchange, event_type, payload, routing_key=None):
    with Connection(uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(
            envelope(event_type, payload),
            exchange=exchange,
            routing_key=routing_key or event_type,
            serializer="json",
            delivery_mode=2,
        )


def test_each_service_publishes_only_its_own_events_and_reads_only_its_own_queues(suite, broker_users):
    # members, as itself, publishes its events and identity, as itself, consumes them
    wait_for(lambda: _projected_members(suite) == 15, timeout=30, message="identity's projection of the demo members")

    forged = {
        "member_id": 3,
        "citizen_id": "001000000002",
        "full_name": "Kẻ mạo danh",
        "organization_id": 1,
        "organization_path": "/1/",
        "status": "official",
        "phone": "+84900000666",
    }
    for impostor in ("identity", "notify", "gateway"):
        with pytest.raises(amqp.exceptions.AccessRefused):
            _publish(broker_users[impostor], "members.events", "members.member_updated", forged)

    # nor straight into identity's queue for members' events, past the exchange (the default exchange,
    # or identity's own redelivery exchange)
    for impostor, exchange in (("notify", ""), ("notify", "identity.redelivery"), ("members", "")):
        with pytest.raises(amqp.exceptions.AccessRefused):
            _publish(
                broker_users[impostor],
                exchange,
                "members.member_updated",
                forged,
                routing_key="evt-members-member_updated--identity.on_member_updated",
            )

    for reader, queue in (
        ("notify", "evt-members-member_updated--identity.on_member_updated"),
        ("identity", "rpc-members"),
        ("gateway", "rpc-identity"),
        ("members", "evt-members-member_updated--identity.on_member_updated.dlq"),
    ):
        with Connection(broker_users[reader]) as conn:
            with pytest.raises(amqp.exceptions.AccessRefused):
                conn.default_channel.basic_get(queue)

    # the gateway, as itself, keeps a queue of its process's own bound to members' events (its member versions)
    known = KnownVersions()
    feed = MemberChangesFeed("gateway", broker_users["gateway"], known, retry_interval=0.1)
    thread = eventlet.spawn(feed.run)
    try:
        wait_for(lambda: known.ready, timeout=10, message="the gateway's feed of members' events consuming")
        known.learn(3, "v3", known.mark())
        _publish(broker_users["members"], "members.events", "members.probe", {"member_id": 3})
        wait_for(lambda: known.current(3) is None, timeout=10, message="the gateway to hear members' event")
    finally:
        feed.stop()
        thread.wait()
