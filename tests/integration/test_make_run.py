"""`make run` without a broker: one line that says how to start one, and a non-zero exit."""

import os
import subprocess
import sys

from shared import config
from tests.support.waiting import free_port


def test_without_a_broker_make_run_says_so_in_one_line_and_fails(tmp_path):
    env = {
        **os.environ,
        "AMQP_URI": f"amqp://guest:guest@127.0.0.1:{free_port()}/",
        "DATA_DIR": str(tmp_path),
        "PYTHONWARNINGS": "ignore",
    }
    done = subprocess.run(
        [sys.executable, "-m", "shared.devrun"],
        env=env,
        cwd=config.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "rabbitmq-server -detached" in lines[0]
    assert "guest:guest" not in lines[0]  # no credentials in the message


def test_make_run_starts_the_suite_and_ctrl_c_stops_every_process(tmp_path):
    import signal
    import time
    import urllib.request

    from tests.support import rabbit
    from tests.support.suite import PORT_VARIABLES
    from tests.support.waiting import wait_for

    name, uri = rabbit.create_vhost("sotay_makerun")
    ports = {variable: str(free_port()) for variable in PORT_VARIABLES}
    env = {**os.environ, "AMQP_URI": uri, "DATA_DIR": str(tmp_path), "PYTHONWARNINGS": "ignore", **ports}
    out = open(tmp_path / "out.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.devrun"], env=env, cwd=config.REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: "Ctrl-C" in (tmp_path / "out.log").read_text(), timeout=90, interval=0.2, message="the banner")
        text = (tmp_path / "out.log").read_text()
        assert f"http://127.0.0.1:{ports['GATEWAY_PORT']}/api/v1" in text and "001000000002" in text
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        assert process.wait(timeout=30) == 0
        assert time.monotonic() - started < 15

        def refused(port):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            except OSError:
                return True
            return False

        assert all(refused(port) for port in ports.values())  # every service is gone
    finally:
        if process.poll() is None:
            process.kill()
        out.close()
        rabbit.delete_vhost(name)
