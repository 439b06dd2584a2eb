"""PostgreSQL backends terminated under load (issue 9, item 6): a lost connection is retried once on a
fresh one where the work is safe to repeat, else answered 503 `service_unavailable` — never 500."""

import os
import secrets
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from shared import registry
from tests.e2e.conftest import bearer, login
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def on_postgresql():
    try:
        admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc}")
    names = {service: f"sotay_test_{service.name}_{secrets.token_hex(4)}" for service in registry.with_database()}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = SERVER.rsplit("/", 1)[0]
    env = {service.database_url_variable: f"{base}/{name}" for service, name in names.items()}
    try:
        with throwaway_suite("sotay-pg", env=env) as started:
            wait_for(
                lambda: login(started.base, "001000000002").status_code == 200,
                timeout=60,
                interval=0.2,
                message="identity's projection of the demo members",
            )
            yield started, admin, list(names.values())
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def terminate_backends(admin, databases):
    with admin.connect() as conn:
        return len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = ANY(:names) AND pid <> pg_backend_pid()"
                ),
                {"names": databases},
            ).all()
        )


def test_terminated_backends_cost_a_retry_or_a_503_never_a_500(on_postgresql):
    started, admin, databases = on_postgresql
    statuses, stop = [], threading.Event()

    def member_session():
        while not stop.is_set():
            signed_in = login(started.base, "001000000002")
            statuses.append(signed_in.status_code)
            if signed_in.status_code == 200:
                me = requests.get(f"{started.base}/me", headers=bearer(signed_in.json()["access_token"]), timeout=15)
                statuses.append(me.status_code)

    clients = [threading.Thread(target=member_session) for _ in range(6)]
    for client in clients:
        client.start()
    terminated = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        terminated += terminate_backends(admin, databases)
        time.sleep(0.5)  # the fault's pace, not a synchronisation: backends die while requests run
    stop.set()
    for client in clients:
        client.join(timeout=30)

    assert terminated > 10
    assert set(statuses) <= {200, 503}, {status: statuses.count(status) for status in set(statuses)}
    assert 200 in statuses
    # and it heals by itself: fresh connections once the backends stop dying
    wait_for(
        lambda: login(started.base, "001000000002").status_code == 200,
        timeout=20,
        message="sign-in once backends are left alone",
    )
