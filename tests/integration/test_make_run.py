"""`make run` without a broker: one line that says how to start one, and a non-zero exit."""
import os
import subprocess
import sys

from shared import config
from tests.support.waiting import free_port


def test_without_a_broker_make_run_says_so_in_one_line_and_fails(tmp_path):
    env = {**os.environ, "AMQP_URI": f"amqp://guest:guest@127.0.0.1:{free_port()}/", "DATA_DIR": str(tmp_path),
           "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "shared.devrun"], env=env, cwd=config.REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "rabbitmq-server -detached" in lines[0]
    assert "guest:guest" not in lines[0]          # no credentials in the message
