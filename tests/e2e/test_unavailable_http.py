"""Callers that never wait for nobody (issue 9 items 3, 10, 5): a stopped service answers 503 at once and heals
by itself; a gateway started under load comes up; a service stops within its deadline while a handler waits on a
service that never answers, and hands the message back. A suite of its own: these tests stop and start processes."""

import signal
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests
from kombu import Connection

from shared.events import envelope
from shared.serve import STOP_DEADLINE
from shared.topology import Subscription, events_exchange
from tests.e2e.conftest import ADMINISTRATOR, GOOD_PASSWORD, Running, bearer, login
from tests.e2e.people import Factory
from tests.support import rabbit
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

RPC_TIMEOUT = 30  # seconds, the callers' deadline: long, so that only a stop ends a call to a service that never
QUICKLY = 5  # answers, and an answer "well before the deadline" is unmistakable


@pytest.fixture(scope="module")
def started():
    with throwaway_suite("sotay-unavailable", env={"RPC_TIMEOUT": str(RPC_TIMEOUT)}) as started:
        wait_for(
            lambda: login(started.base, ADMINISTRATOR).status_code == 200,
            timeout=30,
            interval=0.2,
            message="identity's projection of the administrator",
        )
        yield started


@pytest.fixture(scope="module")
def member(started):
    """A member who signed in once, and signs in again in these tests."""
    factory = Factory(Running(started.base, started.data_dir, started.amqp_uri, started.suite))
    return factory.member(factory.branch(), activated=True)


def token_of(started, member):
    return login(started.base, member["citizen_id"], GOOD_PASSWORD).json()["access_token"]


def get_me(started, token):
    return requests.get(f"{started.base}/me", headers=bearer(token), timeout=2 * RPC_TIMEOUT)


def test_a_stopped_service_answers_503_at_once_and_heals_by_itself(started, member):
    token = token_of(started, member)
    assert get_me(started, token).status_code == 200
    started.suite.stop_service("members")
    try:
        with ThreadPoolExecutor(20) as pool:
            answers = [pool.submit(get_me, started, token) for _ in range(20)]
            wait_for(
                lambda: all(answer.done() for answer in answers),
                timeout=QUICKLY,
                message="20 callers answered well before the RPC timeout",
            )
        for answer in answers:
            response = answer.result()
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "service_unavailable"
            assert int(response.headers["Retry-After"]) > 0
    finally:
        started.suite.start_service("members")
    wait_for(
        lambda: get_me(started, token).status_code == 200,
        timeout=30,
        interval=0.2,
        message="GET /me answered again once members is back",
    )


def test_a_gateway_started_under_load_comes_up(started, member):
    started.suite.stop_service("gateway")
    stop = threading.Event()
    answered = []

    def client():
        while not stop.is_set():
            try:
                response = requests.post(
                    f"{started.base}/auth/login",
                    timeout=2 * RPC_TIMEOUT,
                    json={"citizen_id": member["citizen_id"], "password": GOOD_PASSWORD},
                )
                answered.append(response.status_code)
            except requests.RequestException:
                pass  # not listening yet (or, before the fix, never answering)

    clients = [threading.Thread(target=client) for _ in range(16)]
    for thread in clients:
        thread.start()
    try:
        started.suite.start_service("gateway")
        wait_for(
            lambda: answered.count(200) >= 16,
            timeout=30,
            interval=0.2,
            message="sign-ins answered by the gateway started under load",
        )
    finally:
        stop.set()
        for thread in clients:
            thread.join()
    assert started.suite.processes["gateway"].poll() is None
    assert login(started.base, member["citizen_id"], GOOD_PASSWORD).status_code == 200


def ready_and_consumers(started, queue):
    """At once, from the broker itself (the management API's counts lag by seconds)."""
    with Connection(started.amqp_uri) as connection:
        declared = connection.channel().queue_declare(queue=queue, passive=True)
        return declared.message_count, declared.consumer_count


def queues_path(started):
    vhost = urllib.parse.unquote(urllib.parse.urlsplit(started.amqp_uri).path[1:])
    return f"/queues/{urllib.parse.quote(vhost, safe='')}"


def queue_counts(started, queue):
    """Messages ready and unacknowledged, from the management API (eventually)."""
    info = rabbit._call("GET", f"{queues_path(started)}/{urllib.parse.quote(queue, safe='')}")
    return info.get("messages_ready", 0), info.get("messages_unacknowledged", 0)


@contextmanager
def members_hung(started):
    """members stopped and its request queue held by a consumer that takes requests and never answers:
    every caller waits on its RPC until its deadline."""
    started.suite.stop_service("members")
    try:
        with Connection(started.amqp_uri) as connection:
            channel = connection.channel()
            channel.basic_qos(0, 1000, False)
            channel.basic_consume("rpc-members", callback=lambda message: None)
            yield
    finally:
        started.suite.start_service("members")


def stop_within_deadline(started, services):
    """SIGTERM to every one of `services` at once (as a deploy stops them); each must be gone within its deadline."""
    processes = {service: started.suite.processes[service] for service in services}
    for process in processes.values():
        process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    for service, process in processes.items():
        wait_for(
            lambda process=process: process.poll() is not None,
            timeout=max(0, signalled + STOP_DEADLINE + 2 - time.monotonic()),
            interval=0.1,
            message=f"{service} stopped within its deadline",
        )


def test_a_lost_reply_queue_is_declared_again_and_the_gateway_lives_on(started, member):
    token = token_of(started, member)
    with members_hung(started), ThreadPoolExecutor(1) as pool:
        pending_me = pool.submit(get_me, started, token)
        wait_for(
            lambda: queue_counts(started, "rpc-members")[1] >= 1, timeout=15, message="the gateway waiting on members"
        )
        for queue in rabbit._call("GET", queues_path(started)):
            if queue["name"].startswith("rpc.reply-gateway-"):  # as when it expired or the broker lost it
                rabbit._call("DELETE", f"{queues_path(started)}/{urllib.parse.quote(queue['name'], safe='')}")
        wait_for(pending_me.done, timeout=QUICKLY, message="the call whose reply was lost answered")
        assert pending_me.result().status_code == 503
    wait_for(
        lambda: get_me(started, token).status_code == 200,
        timeout=30,
        interval=0.2,
        message="the same gateway answering once members is back",
    )
    assert started.suite.processes["gateway"].poll() is None


def test_every_service_stops_in_time_while_waiting_on_a_service_that_never_answers(started, member):
    subscribers = {
        service: Subscription("members", "members.members_imported", service, "on_members_imported").queue_name
        for service in ("identity", "notify")
    }
    token = token_of(started, member)
    with members_hung(started), ThreadPoolExecutor(1) as pool:
        with Connection(started.amqp_uri) as connection:
            connection.Producer().publish(
                envelope(
                    "members.members_imported",
                    {"job_id": "stop-test", "accepted": 1, "updated_since": "2026-01-01T00:00:00+00:00"},
                ),
                exchange=events_exchange("members"),
                routing_key="members.members_imported",
                serializer="json",
            )
        for queue in subscribers.values():
            wait_for(
                lambda queue=queue: queue_counts(started, queue) == (0, 1),
                timeout=15,
                message=f"{queue}: its handler waiting on members",
            )
        pending_me = pool.submit(get_me, started, token)
        wait_for(
            lambda: queue_counts(started, "rpc-members")[1] >= 3,
            timeout=15,
            message="the gateway waiting on members too",
        )

        stop_within_deadline(started, ("identity", "notify", "gateway"))
        for queue in subscribers.values():  # the event is back on the broker for the next replica
            assert ready_and_consumers(started, queue) == (1, 0)
        try:  # the gateway's caller is told, or its connection closes: it never waits for the RPC deadline
            assert pending_me.result().status_code == 503
        except requests.ConnectionError:
            pass
    for service in ("identity", "notify", "gateway"):
        started.suite.start_service(service)
    started.suite.wait_healthy()
    for queue in subscribers.values():
        wait_for(
            lambda queue=queue: queue_counts(started, queue) == (0, 0),
            timeout=30,
            message=f"{queue} handled once members is back",
        )
    assert get_me(started, token).status_code == 200
