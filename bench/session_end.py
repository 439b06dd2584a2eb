"""How long after a logout's HTTP answer each service refuses the session's access token.

    python -m bench.session_end [samples]

Starts the suite as `make run` does (throw-away vhost and DATA_DIR), then, for each sample: sign in, open
one RPC client per service carrying the token, log out, and poll every service at once (members `get_me`,
notify `list_inbox`, identity `list_sessions`, each over its own RPC, and the gateway's `GET /me`) until
it answers 401. Prints the median and the worst delay per service; the resolution is one round trip.
"""

import statistics
import sys
import threading
import time
import warnings

import requests
from nameko.standalone.rpc import ClusterRpcClient

from tests.support.calls import RPC_CALLS, rpc_status
from tests.support.suite import throwaway_suite
from tests.support.waiting import wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)


def refused_after(started, call, results, key, timeout=30.0):
    while time.monotonic() - started < timeout:
        if call() == 401:
            results[key] = time.monotonic() - started
            return
    results[key] = float("inf")


def sample(base, amqp_uri):
    tokens = requests.post(
        f"{base}/auth/login", json={"citizen_id": "001000000002", "password": "sotay-demo-2026"}, timeout=10
    ).json()
    token = tokens["access_token"]
    connections = {
        service: ClusterRpcClient(context_data={"auth_token": token}, uri=amqp_uri, timeout=10) for service in RPC_CALLS
    }
    clients = {service: connection.start() for service, connection in connections.items()}
    http = requests.Session()
    calls = {
        f"{service} (rpc)": (lambda c=clients[service], s=service, m=method: rpc_status(getattr(c[s], m)))
        for service, method in RPC_CALLS.items()
    }
    calls["gateway (http)"] = lambda: (
        http.get(f"{base}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
    )
    assert all(call() == 200 for call in calls.values())
    assert (
        requests.post(f"{base}/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        == 200
    )
    started = time.monotonic()
    results = {}
    threads = [
        threading.Thread(target=refused_after, args=(started, call, results, key)) for key, call in calls.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in connections.values():
        connection.stop()
    return results


def main(argv):
    samples = int(argv[0]) if argv else 30
    with throwaway_suite("sotay-bench-sessions") as started:
        base = started.base
        wait_for(
            lambda: (
                requests.post(
                    f"{base}/auth/login", json={"citizen_id": "001000000002", "password": "sotay-demo-2026"}, timeout=10
                ).status_code
                == 200
            ),
            timeout=30,
            interval=0.2,
        )
        delays = {}
        for _ in range(samples):
            for key, value in sample(base, started.amqp_uri).items():
                delays.setdefault(key, []).append(value)
    print(f"logout → first 401, {samples} samples (seconds)")
    for key, values in sorted(delays.items()):
        print(f"  {key:16s} median {statistics.median(values):.3f}   worst {max(values):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
