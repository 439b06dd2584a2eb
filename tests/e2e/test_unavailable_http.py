"""Callers that never wait for nobody (issue 9 items 3, 10): a stopped service answers 503 at once and heals by
itself; a gateway started under load comes up. A suite of its own: these tests stop and start processes."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import bearer, login
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

RPC_TIMEOUT = 10   # seconds, the callers' deadline (shared/rpc.py): a 503 must come well before it


@pytest.fixture(scope="module")
def started():
    with throwaway_suite("sotay-unavailable") as started:
        wait_for(lambda: login(started.base, "001000000002").status_code == 200, timeout=30, interval=0.2,
                 message="identity's projection of the demo members")
        yield started


def get_me(started, token):
    return requests.get(f"{started.base}/me", headers=bearer(token), timeout=2 * RPC_TIMEOUT)


def test_a_stopped_service_answers_503_at_once_and_heals_by_itself(started):
    token = login(started.base, "001000000002").json()["access_token"]
    assert get_me(started, token).status_code == 200
    started.suite.stop_service("members")
    try:
        with ThreadPoolExecutor(20) as pool:
            answers = [pool.submit(get_me, started, token) for _ in range(20)]
            wait_for(lambda: all(answer.done() for answer in answers), timeout=RPC_TIMEOUT / 3,
                     message="20 callers answered well before the RPC timeout")
        for answer in answers:
            response = answer.result()
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "service_unavailable"
            assert int(response.headers["Retry-After"]) > 0
    finally:
        started.suite.start_service("members")
    wait_for(lambda: get_me(started, token).status_code == 200, timeout=30, interval=0.2,
             message="GET /me answered again once members is back")


def test_a_gateway_started_under_load_comes_up(started):
    started.suite.stop_service("gateway")
    stop = threading.Event()
    answered = []

    def client():
        while not stop.is_set():
            try:
                response = requests.post(f"{started.base}/auth/login", timeout=2 * RPC_TIMEOUT,
                                         json={"citizen_id": "001000000002", "password": "sotay-demo-2026"})
                answered.append(response.status_code)
            except requests.RequestException:
                pass   # not listening yet (or, before the fix, never answering)

    clients = [threading.Thread(target=client) for _ in range(16)]
    for thread in clients:
        thread.start()
    try:
        started.suite.start_service("gateway")
        wait_for(lambda: answered.count(200) >= 16, timeout=30, interval=0.2,
                 message="sign-ins answered by the gateway started under load")
    finally:
        stop.set()
        for thread in clients:
            thread.join()
    assert started.suite.processes["gateway"].poll() is None
    assert login(started.base, "001000000002").status_code == 200
