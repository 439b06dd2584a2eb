"""Two processes of every service (issue 14, item 1), on PostgreSQL: the e2e journeys run through them and nothing
is done twice (one SMS per code, one import, one inbox item per event), nothing is lost, every replica answers the
same; one replica of each service killed (SIGKILL) mid-journey, the others carry on."""

import re
import secrets
import threading

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from shared import registry
from tests.e2e.conftest import ADMINISTRATOR, CODE, GOOD_PASSWORD, Running, bearer, login
from tests.e2e.people import Factory, patch
from tests.support.postgres import SERVER
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

HEADER = (
    "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
    "organization_code,status\n"
)


@pytest.fixture(scope="module")
def running():
    try:
        admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {SERVER}: {exc}")
    names = {service: f"sotay_replicas_{service.name}_{secrets.token_hex(4)}" for service in registry.with_database()}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = SERVER.rsplit("/", 1)[0]
    urls = {service.name: f"{base}/{name}" for service, name in names.items()}
    # twelve processes and more share the server's 100 connections
    pools = {"DATABASE_POOL_SIZE": "4", "DATABASE_MAX_OVERFLOW": "2"}
    env = {"REPLICAS": "2", **pools, **{s.database_url_variable: urls[s.name] for s in names}}
    try:
        with throwaway_suite("sotay-replicas", env=env) as started:
            wait_for(
                lambda: login(started.base, ADMINISTRATOR).status_code == 200,
                timeout=60,
                interval=0.2,
                message="identity's projection of the administrator",
            )
            assert len(started.suite.processes) >= 2 * len(registry.names())
            suite = Running(started.base, started.data_dir, started.amqp_uri, started.suite, started.metrics_url)
            suite.identity_database_url = urls["identity"]
            yield suite
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def factory(running):
    return Factory(running)


def call(running, method, path, token, headers=None, **kwargs):
    headers = {**bearer(token), **(headers or {})}
    return requests.request(method, f"{running.base}{path}", headers=headers, timeout=20, **kwargs)


def titled(running, token, title):
    return [i for i in call(running, "GET", "/me/notifications", token).json()["items"] if i["title"] == title]


def test_every_activation_sends_one_code_and_one_welcome(running, factory):
    branch = factory.branch()
    members = [factory.member(branch, activated=True) for _ in range(6)]  # each: one code read, signed in
    for member in members:
        codes = [
            m
            for m in running.sms(member["phone"])
            if CODE.search(m["text"]) and "đã kích hoạt tài khoản" not in m["text"]
        ]
        assert len(codes) == 1, codes
        wait_for(lambda m=member: titled(running, m["token"], "Tài khoản Sổ tay đã kích hoạt"), message="welcome")
        assert len(titled(running, member["token"], "Tài khoản Sổ tay đã kích hoạt")) == 1
        wait_for(lambda m=member: [s for s in running.sms(m["phone"]) if "đã kích hoạt tài khoản" in s["text"]])
        assert len([s for s in running.sms(member["phone"]) if "đã kích hoạt tài khoản" in s["text"]]) == 1


def test_one_refresh_token_presented_to_two_replicas_at_once_is_reuse(running, factory):
    member = factory.member(factory.branch(), activated=True)
    token = member["tokens"]["refresh_token"]
    answers = []

    def rotate():
        answers.append(requests.post(f"{running.base}/auth/refresh", json={"refresh_token": token}, timeout=20))

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1, [a.text for a in answers]
    for answer in won:  # the loser's attempt was reuse: the whole family is revoked, the winner's pair too
        again = requests.post(
            f"{running.base}/auth/refresh", json={"refresh_token": answer.json()["refresh_token"]}, timeout=20
        )
        assert again.status_code == 401


def test_an_import_runs_once_and_every_replica_answers_its_progress_alike(running, factory):
    branch = factory.branch()
    admin = login(running.base, ADMINISTRATOR).json()["access_token"]
    rows = 20_000
    row = f"Đỗ Văn Tâm,1988-08-08,Nam,,,,2012-01-01,2013-01-01,{branch['code']},chính thức\n"
    body = (HEADER + "".join(f"001099{i:06d},{row}" for i in range(rows))).encode()
    started = call(running, "POST", "/imports", admin, data=body, headers={"Content-Type": "text/csv"})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    seen = []

    def finished():
        answer = call(running, "GET", f"/imports/{job_id}", admin)
        assert answer.status_code == 200, answer.text  # whichever members replica serves, it knows the job
        seen.append(answer.json())
        return seen[-1]["status"] in ("completed", "failed")

    wait_for(finished, timeout=180, interval=0.05, message="the import to finish")
    for _ in range(20):  # once done, every replica answers the same
        seen.append(call(running, "GET", f"/imports/{job_id}", admin).json())
    assert len({str(answer) for answer in seen[-20:]}) == 1
    progress = [answer["processed_rows"] for answer in seen]
    assert progress == sorted(progress), "progress never goes back, whichever replica answers"
    assert seen[-1]["status"] == "completed" and seen[-1]["accepted"] == rows, seen[-1]
    stats = call(running, "GET", f"/organizations/{branch['id']}/stats", admin)
    assert stats.status_code == 200, stats.text
    assert stats.json()["total"] == rows  # once


def test_a_change_request_and_a_transfer_tell_the_member_once(running, factory):
    grassroots = factory.organization(factory.province()["id"])
    branch, sibling = factory.organization(grassroots["id"]), factory.organization(grassroots["id"])
    secretary = factory.officer(grassroots)
    member = factory.member(branch, activated=True)
    changed = call(running, "PATCH", "/me", member["token"], json={"full_name": "Lê Văn Hưng"})
    assert changed.status_code == 200, changed.text
    request_id = changed.json()["change_request"]["id"]
    assert call(running, "POST", f"/change-requests/{request_id}/approve", secretary["token"]).status_code == 200
    for _ in range(10):  # every replica answers the approved record
        assert call(running, "GET", "/me", member["token"]).json()["full_name"] == "Lê Văn Hưng"
    title = "Yêu cầu sửa hồ sơ đã được duyệt"
    wait_for(lambda: titled(running, member["token"], title), message="the approval in the inbox")
    issued = call(
        running,
        "POST",
        f"/members/{member['id']}/transfers",
        secretary["token"],
        json={"to_organization_id": sibling["id"], "kind": "official"},
    )
    assert issued.status_code == 201, issued.text
    accepted = call(running, "POST", f"/transfers/{issued.json()['id']}/accept", secretary["token"])
    assert accepted.status_code == 200, accepted.text
    for words in ("đã duyệt yêu cầu", "Đã lập giấy chuyển", "Tổ chức đảng mới đã tiếp nhận"):
        wait_for(lambda w=words: [m for m in running.sms(member["phone"]) if w in m["text"]], message=words)
    assert len(titled(running, member["token"], title)) == 1
    for words in ("đã duyệt yêu cầu", "Đã lập giấy chuyển", "Tổ chức đảng mới đã tiếp nhận"):
        assert len([m for m in running.sms(member["phone"]) if words in m["text"]]) == 1, words


def conditional_reads(running, gateway):
    """{answer: count} of one gateway process's conditional reads of /me (its own metrics port)."""
    text = requests.get(f"http://127.0.0.1:{running.suite.health_ports[gateway]}/metrics", timeout=10).text
    found = re.findall(r'^sotay_conditional_reads_total\{answer="(\w+)",route="/me"\} ([\d.e+]+)$', text, re.M)
    return {answer: float(count) for answer, count in found}


def test_every_gateway_forgets_a_members_version_when_it_changes(running, factory):
    member = factory.member(factory.branch(), activated=True)
    etag = call(running, "GET", "/me", member["token"]).headers["ETag"]
    gateways = [name for name in running.suite.replica_names("gateway") if running.suite.processes[name].poll() is None]
    before = {gateway: conditional_reads(running, gateway) for gateway in gateways}

    def each_gateway(answer):
        """Conditional reads on new connections (the kernel spreads them) until every gateway gave `answer`."""
        call(running, "GET", "/me", member["token"], {"If-None-Match": etag})
        now = {gateway: conditional_reads(running, gateway) for gateway in gateways}
        return all(now[g].get(answer, 0) > before[g].get(answer, 0) for g in gateways)

    # each learns the version from an answer it relays, then answers the next one itself
    wait_for(lambda: each_gateway("304_at_gateway"), timeout=30, message="every gateway answering 304 itself")
    changed = patch(running, f"/members/{member['id']}", {"full_name": "Tên Đã Đổi"}, factory.admin)
    assert changed.status_code == 200, changed.text
    before = {gateway: conditional_reads(running, gateway) for gateway in gateways}
    wait_for(lambda: each_gateway("200"), timeout=30, message="every gateway answering the change")
    for _ in range(10):  # and none of them answers the old version again
        assert call(running, "GET", "/me", member["token"], {"If-None-Match": etag}).status_code == 200


def test_one_replica_of_each_service_killed_mid_journey_the_others_carry_on(running, factory):
    branch = factory.branch()
    failures, done, stop = [], [], threading.Event()

    def journeys():
        me = factory.member(branch, activated=True)  # activation: a code, a sign-in
        while not stop.is_set():
            for attempt in range(3):  # a connection the killed gateway held is reset: the client tries again
                try:
                    signed_in = login(running.base, me["citizen_id"], GOOD_PASSWORD)
                    answer = call(running, "GET", "/me", signed_in.json()["access_token"])
                    break
                except requests.ConnectionError:
                    if attempt == 2:
                        raise
            if signed_in.status_code != 200 or answer.status_code != 200:
                failures.append((signed_in.status_code, answer.status_code, answer.text[:200]))
            done.append(1)

    clients = [threading.Thread(target=journeys, daemon=True) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        wait_for(lambda: len(done) >= 6, timeout=120, message="journeys under way")
        for service in registry.names():
            running.suite.kill_replica(f"{service}#1")
        started = len(done)
        activated = [factory.member(branch, activated=True) for _ in range(2)]  # codes still go, once each
        wait_for(lambda: len(done) >= started + 10, timeout=120, message="journeys after the kill")
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
    assert failures == []
    for member in activated:
        codes = [m for m in running.sms(member["phone"]) if CODE.search(m["text"]) and "đã kích hoạt" not in m["text"]]
        assert len(codes) == 1, codes
    for member in activated:
        wait_for(lambda m=member: titled(running, m["token"], "Tài khoản Sổ tay đã kích hoạt"), message="welcome")
        assert len(titled(running, member["token"], "Tài khoản Sổ tay đã kích hoạt")) == 1
