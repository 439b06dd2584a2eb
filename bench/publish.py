"""`python -m bench.publish`: the CPU one RPC message costs its publisher (issue 14 item 2), three ways.

nameko's Publisher with a confirm and persisted (what every request and reply cost before), nameko's without
them, and shared/rpc.py's UnconfirmedPublisher (no confirm, transient, its pool of producers found once).
`BENCH_PUBLISHES` (2,000) messages in a row each, three rounds interleaved, to amq.direct with a routing key
nothing is bound to (the broker drops them: only the publisher's side is measured). CPU time of this process
(time.process_time), so a loaded machine changes it less than wall-clock time.
"""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

from nameko.amqp.publish import Publisher  # noqa: E402

from shared import config  # noqa: E402
from shared.rpc import UnconfirmedPublisher  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)

N = int(os.environ.get("BENCH_PUBLISHES", 2000))
PAYLOAD = {"args": [], "kwargs": {"token": "x" * 400}}


def main():
    uri = config.amqp_uri()
    publishers = {
        "nameko, confirmed, persistent": Publisher(uri, exchange="amq.direct"),
        "nameko, unconfirmed, transient": Publisher(uri, exchange="amq.direct", use_confirms=False, delivery_mode=1),
        "UnconfirmedPublisher (shared/rpc.py)": UnconfirmedPublisher(uri, exchange="amq.direct"),
    }
    spent = {name: [] for name in publishers}
    for _ in range(3):
        for name, publisher in publishers.items():
            publisher.publish(PAYLOAD, routing_key="sotay-bench-nobody")  # connection and channel made first
            began = time.process_time()
            for _ in range(N):
                publisher.publish(PAYLOAD, routing_key="sotay-bench-nobody")
            spent[name].append((time.process_time() - began) * 1e6 / N)
    print(f"\nbench.publish — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, CPU µs per message, 3 rounds")
    for name, rounds in spent.items():
        print(f"{name:40} " + " ".join(f"{value:6.0f}" for value in rounds))


if __name__ == "__main__":
    main()
