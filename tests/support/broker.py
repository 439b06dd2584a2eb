"""`make test` pre-flight: the broker answers and its management API (per-test vhosts) is on."""

import shutil
import subprocess
import sys
import time

from tests.support.rabbit import BROKER_URI, management_answers


def broker_answers():
    from kombu import Connection

    try:
        with Connection(BROKER_URI, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return True
    except Exception:
        return False


def main():
    if not broker_answers():
        print("RabbitMQ does not answer at 127.0.0.1:5672: start it with `rabbitmq-server -detached`.", file=sys.stderr)
        return 1
    if management_answers():
        return 0
    if shutil.which("rabbitmq-plugins"):
        subprocess.run(
            ["rabbitmq-plugins", "enable", "rabbitmq_management"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if management_answers():
                return 0
            time.sleep(0.5)
    print(
        "The tests need RabbitMQ's management plugin: `rabbitmq-plugins enable rabbitmq_management`.", file=sys.stderr
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
