"""`python -m bench.attachments` (part of `make bench`): is a 50 MiB attachment served as fast as a static file?

One 50 MiB PDF, stored once in a blob store (files under a temporary BLOB_DIR) and once as a plain file. Two
servers on this machine, each a process of its own: `blob_response` under eventlet.wsgi (as the gateway serves:
one green thread per connection, the blob read in chunks as it is sent), and Python's static file server
(`python -m http.server`, a thread per connection). curl fetches each over loopback, alternately, `ROUNDS` times,
and the medians are compared; then the blob server alone resumes a download (the second half by `Range`: 206,
read from the middle of the file, not skipped through; http.server knows no Range). Target (issue 11):
≥ 0.8× the static server's rate. What it measures is the streaming layer; the route through the gateway and
content (token, audience check) adds one RPC per download, not per byte.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from tests.support.samples import pdf
from tests.support.waiting import free_port, stop_process, wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

SIZE = 50 * 1024 * 1024
ROUNDS = int(os.environ.get("BENCH_ATTACHMENT_ROUNDS", 15))
CLIENTS = 4


def serve_blob(port, blob_file):
    """The blob server: blob_response under eventlet.wsgi (run in a process of its own)."""
    import eventlet

    eventlet.monkey_patch()
    from eventlet import wsgi
    from werkzeug.wrappers import Request

    from shared.blobs import Blob
    from shared.downloads import blob_response

    blob = Blob(**json.loads(Path(blob_file).read_text()))

    def app(environ, start_response):
        return blob_response(Request(environ), blob, "Tài liệu học tập.pdf")(environ, start_response)

    sock = eventlet.listen(("127.0.0.1", port))
    wsgi.server(sock, app, log_output=False, keepalive=True)


def fetch(url, headers=(), expected=("200", SIZE)):
    """Bytes per second of one download by curl, the body thrown away."""
    command = ["curl", "-s", "-o", os.devnull, "-w", "%{http_code} %{size_download} %{time_total}", url]
    for header in headers:
        command += ["-H", header]
    status, size, seconds = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    assert (status, int(size)) == expected, (status, size)
    return int(size) / float(seconds)


def fetch_together(url, clients):
    """Bytes per second of `clients` downloads at once (from the first start to the last end)."""
    command = ["curl", "-s", "-f", "-o", os.devnull, url]
    started = time.perf_counter()
    running = [subprocess.Popen(command) for _ in range(clients)]
    assert all(process.wait() == 0 for process in running)
    return clients * SIZE / (time.perf_counter() - started)


def answers(url):
    return subprocess.run(["curl", "-s", "-o", os.devnull, "-f", url], check=False).returncode == 0


def main():
    from shared.blobs import FileStore

    with tempfile.TemporaryDirectory(prefix="sotay-bench-attachments-") as work:
        data = pdf(SIZE)
        blob = FileStore(Path(work) / "blobs").put(iter([data[i : i + 65536] for i in range(0, SIZE, 65536)]), SIZE)
        static = Path(work) / "static"
        static.mkdir()
        (static / "document.pdf").write_bytes(data)
        del data
        blob_file = Path(work) / "blob.json"
        blob_file.write_text(json.dumps(asdict(blob)))
        blob_port, static_port = free_port(), free_port()
        env = {**os.environ, "BLOB_DIR": str(Path(work) / "blobs"), "PYTHONWARNINGS": "ignore"}
        servers = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.attachments", "serve", str(blob_port), str(blob_file)],
                env=env,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [sys.executable, "-m", "http.server", "-b", "127.0.0.1", "-d", str(static), str(static_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        try:
            urls = {"blob_response": f"http://127.0.0.1:{blob_port}/", "static": f"http://127.0.0.1:{static_port}/"}
            urls["static"] += "document.pdf"
            for url in urls.values():
                wait_for(lambda url=url: answers(url), timeout=30, interval=0.2, message=url)
            rates = {name: [] for name in urls}
            for _ in range(ROUNDS):
                for name, url in urls.items():
                    rates[name].append(fetch(url))
            together = {name: [] for name in urls}
            for _ in range(max(3, ROUNDS // 2)):
                for name, url in urls.items():
                    together[name].append(fetch_together(url, CLIENTS))
            half = [f"Range: bytes={SIZE // 2}-"]
            resumed = [fetch(urls["blob_response"], half, ("206", SIZE // 2)) for _ in range(ROUNDS)]
        finally:
            for server in servers:
                stop_process(server)
    report(rates, together, resumed)


def report(rates, together, resumed):
    mb = 1_000_000
    one = {name: statistics.median(values) / mb for name, values in rates.items()}
    many = {name: statistics.median(values) / mb for name, values in together.items()}
    print(f"attachments: 50 MiB over loopback, medians ({time.strftime('%Y-%m-%d %H:%M')}); target ≥ 0.8×")
    print(f"  {'':32}{'one download':>14}{f'{CLIENTS} at once':>14}")
    for name, label in (("blob_response", "blob_response (eventlet.wsgi)"), ("static", "static file (http.server)")):
        print(f"  {label:32}{one[name]:>9.0f} MB/s{many[name]:>9.0f} MB/s")
    ratio_one, ratio_many = one["blob_response"] / one["static"], many["blob_response"] / many["static"]
    print(f"  {'ratio':32}{ratio_one:>13.2f}×{ratio_many:>13.2f}×")
    print(f"  resumed from the middle (Range, 206): {statistics.median(resumed) / mb:.0f} MB/s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve_blob(int(sys.argv[2]), sys.argv[3])
    else:
        main()
