"""Imports that die and imports that block (issue 9, items 2 and 7): a job whose members process was killed
or stopped says `failed` with a reason; while an import runs, progress comes from the database (any replica
answers the same) and `GET /me` answers."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import requests

from shared import config
from tests.e2e.conftest import bearer, login
from tests.e2e.people import Factory
from tests.support.waiting import free_port, wait_for

pytestmark = pytest.mark.e2e

HEADER = (
    "citizen_id,full_name,date_of_birth,gender,phone,email,party_card_number,admission_date,official_date,"
    "organization_code,status\n"
)


@pytest.fixture(scope="module")
def branch(running):
    return Factory(running).branch()


def export(rows, branch):
    """A valid export of `rows` members of `branch`: long enough to be caught in the middle of its checks."""
    row = f"Đỗ Văn Tâm,1988-08-08,Nam,,,,2012-01-01,2013-01-01,{branch['code']},chính thức\n"
    return (HEADER + "".join(f"001088{i:06d},{row}" for i in range(rows))).encode()


def start_import(running, token, rows, branch, dry_run=True):
    started = requests.post(
        f"{running.base}/imports?dry_run={'true' if dry_run else 'false'}",
        data=export(rows, branch),
        headers={**bearer(token), "Content-Type": "text/csv"},
        timeout=60,
    )
    assert started.status_code == 202, started.text
    return started.json()["id"]


def job(running, token, job_id):
    try:
        answer = requests.get(f"{running.base}/imports/{job_id}", headers=bearer(token), timeout=3)
    except requests.RequestException:
        return None  # members restarting
    return answer.json() if answer.status_code == 200 else None


def under_way(running, token, job_id):
    current = job(running, token, job_id)
    return current if current and current["status"] == "running" and current["processed_rows"] > 0 else None


def members_answers(running, token):
    try:
        return requests.get(f"{running.base}/me", headers=bearer(token), timeout=3).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def members_with(running, **settings):
    """members restarted with these settings; restarted as it was afterwards."""
    saved = {key: running.suite.env.get(key) for key in settings}

    def restart():
        running.suite.stop_service("members")
        running.suite.start_service("members")
        running.suite.wait_healthy()

    running.suite.env.update({key: str(value) for key, value in settings.items()})
    restart()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                running.suite.env.pop(key, None)
            else:
                running.suite.env[key] = value
        restart()


def assert_failed_with_a_reason(current):
    assert current["status"] == "failed", current
    assert "gián đoạn" in current["failure"] and "interrupted" in current["failure"], current["failure"]


def test_an_import_whose_members_process_was_killed_says_failed_with_the_reason(running, branch):
    admin = login(running.base, "001000000000").json()["access_token"]
    with members_with(running, IMPORT_LEASE_SECONDS=2):
        job_id = start_import(running, admin, 150_000, branch)
        wait_for(lambda: under_way(running, admin, job_id), timeout=30, message="the import under way")
        members = running.suite.processes["members"]
        members.kill()  # kill -9: nothing of members runs on
        members.wait(timeout=10)
        running.suite.start_service("members")
        running.suite.wait_healthy()
        # the job's lease (2 s) lapses; the restarted members marks it failed
        done = wait_for(
            lambda: (lambda j: j if j and j["status"] != "running" else None)(job(running, admin, job_id)),
            timeout=30,
            interval=0.2,
            message="the dead import to be marked failed",
        )
        assert_failed_with_a_reason(done)
        assert os.listdir(os.path.join(running.data_dir, "imports")) == []  # its upload deleted, not left for an hour


def test_sigterm_during_an_import_marks_it_failed_within_the_stop_deadline(running, branch):
    admin = login(running.base, "001000000000").json()["access_token"]
    job_id = start_import(running, admin, 150_000, branch)
    wait_for(lambda: under_way(running, admin, job_id), timeout=30, message="the import under way")
    members = running.suite.processes["members"]
    asked = time.monotonic()
    members.send_signal(signal.SIGTERM)
    members.wait(timeout=10)
    assert time.monotonic() - asked < 5.5  # shared.serve's stop deadline, plus exit
    running.suite.start_service("members")
    running.suite.wait_healthy()
    # marked before the process ended: no lease (60 s by default) had to lapse
    assert_failed_with_a_reason(wait_for(lambda: job(running, admin, job_id), timeout=20, message="members back"))


class Replica:
    """A second members process beside the suite's, on the same database and broker."""

    def __init__(self, running):
        env = {**running.suite.env, "MEMBERS_HTTP_PORT": str(free_port())}
        self.log = open(os.path.join(running.data_dir, "members-replica.log"), "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.serve", "members"],
            env=env,
            cwd=config.REPO_ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.port = env["MEMBERS_HTTP_PORT"]

    def healthy(self):
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def test_while_an_import_runs_every_replica_shows_its_progress_rising_and_me_answers(running, branch):
    admin = login(running.base, "001000000000").json()["access_token"]
    replica = Replica(running)
    try:
        wait_for(replica.healthy, timeout=30, message="a second members replica")
        job_id = start_import(running, admin, 150_000, branch)
        seen = []

        def finished_checking():
            current = job(running, admin, job_id)
            assert current is not None and members_answers(running, admin)
            if current["status"] != "running":
                return True
            seen.append(current["processed_rows"])
            return False

        wait_for(finished_checking, timeout=120, interval=0.05, message="the import's checks")
        # the gateway's calls went to both replicas in turn: each answered the same rising progress
        assert seen == sorted(seen), seen
        assert len(set(seen) - {0}) >= 3, seen
        wait_for(
            lambda: (lambda j: j if j and j["status"] == "completed" else None)(job(running, admin, job_id)),
            timeout=120,
            interval=0.5,
            message="the import to complete",
        )
    finally:
        replica.stop()
