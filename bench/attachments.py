"""`python -m bench.attachments` (part of `make bench`): is a 50 MiB attachment served as fast as a static file?

One 50 MiB PDF and three servers on this machine, each downloaded by curl over loopback, alternately, `ROUNDS`
times, medians compared:
- the route itself: `GET /api/v1/documents/{id}/attachments/1` of the running suite (`make run`'s processes, a
  throw-away vhost and data directory), as a member of the document's audience with her access token. The PDF is
  uploaded through the API by the branch's secretary (`POST /documents/{id}/attachments`) to a document she
  publishes to her branch; each download is the gateway's token check, one RPC to content (may this member read
  it: the audience), then the blob streamed from the store by the gateway;
- the streaming layer alone: `blob_response` under a bare eventlet.wsgi with the gateway's protocol (one green
  thread per connection; the blob's first chunk sent by the server with the headers, the rest by sendfile), no
  token, no RPC;
- Python's static file server (`python -m http.server`, a thread per connection) serving the same bytes.
Then 4 downloads at once from each, and a resume (`Range: bytes=26214400-`, 206, the second half read from the
middle of the file, not skipped through; http.server knows no Range) through the route. The gateway's resident
memory is sampled meanwhile (/proc): a download streamed, not loaded, leaves it flat. Target (issue 11): ≥ 0.8× the
static server's rate.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import requests

from shared.demo import DEMO_PASSWORD
from tests.support.samples import pdf
from tests.support.suite import throwaway_suite
from tests.support.waiting import free_port, stop_process, wait_for

warnings.filterwarnings("ignore", category=DeprecationWarning)

SIZE = 50 * 1024 * 1024
ROUNDS = int(os.environ.get("BENCH_ATTACHMENT_ROUNDS", 15))
CLIENTS = 4
SECRETARY, MEMBER = "001000000001", "001000000002"  # the demo branch's secretary and one of its members


def serve_blob(port, blob_file):
    """The blob server: blob_response under eventlet.wsgi (run in a process of its own)."""
    import eventlet

    eventlet.monkey_patch()
    from eventlet import wsgi
    from werkzeug.wrappers import Request

    from shared.blobs import Blob
    from shared.downloads import blob_response
    from shared.http import FileSendingProtocol

    blob = Blob(**json.loads(Path(blob_file).read_text()))

    def app(environ, start_response):
        return blob_response(Request(environ), blob, "Tài liệu học tập.pdf")(environ, start_response)

    sock = eventlet.listen(("127.0.0.1", port))
    wsgi.server(sock, app, log_output=False, keepalive=True, protocol=FileSendingProtocol)  # the gateway's protocol


def curl(url, headers=(), *options):
    command = ["curl", "-s", *options, url]
    for header in headers:
        command += ["-H", header]
    return command


def fetch(url, headers=(), expected=("200", SIZE)):
    """Bytes per second of one download by curl, the body thrown away."""
    command = curl(url, headers, "-o", os.devnull, "-w", "%{http_code} %{size_download} %{time_total}")
    status, size, seconds = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    assert (status, int(size)) == expected, (status, size)
    return int(size) / float(seconds)


def fetch_together(url, headers, clients):
    """Bytes per second of `clients` downloads at once (from the first start to the last end)."""
    started = time.perf_counter()
    running = [subprocess.Popen(curl(url, headers, "-f", "-o", os.devnull)) for _ in range(clients)]
    assert all(process.wait() == 0 for process in running)
    return clients * SIZE / (time.perf_counter() - started)


def answers(url):
    return subprocess.run(["curl", "-s", "-o", os.devnull, "-f", url], check=False).returncode == 0


class Resident:
    """A process's resident memory (VmRSS), sampled every 20 ms in a thread while the block runs: (first, peak)."""

    def __init__(self, pid):
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def read(self):
        with open(f"/proc/{self.pid}/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))

    def __enter__(self):
        self.samples.append(self.read())
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        return self

    def loop(self):
        while not self.stop.wait(0.02):
            self.samples.append(self.read())

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def sign_in(base, citizen_id):
    answer = requests.post(f"{base}/auth/login", json={"citizen_id": citizen_id, "password": DEMO_PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def call(base, method, path, token, body=None, status=200):
    answer = requests.request(method, f"{base}{path}", json=body, headers={"Authorization": f"Bearer {token}"},
                              timeout=60)  # fmt: skip
    assert answer.status_code == status, (path, answer.status_code, answer.text)
    return answer.json()


def published_attachment(base, pdf_file):
    """The secretary's document for her branch with the PDF attached, published; (its URL, the member's header)."""
    secretary = wait_for(lambda: sign_in(base, SECRETARY), timeout=60, interval=0.5, message="the sign-in")
    branch = next(p for p in call(base, "GET", "/me", secretary)["positions"] if p["role"] == "secretary")
    document = call(base, "POST", "/documents", secretary, {"category": "study", "title": "Tài liệu học tập 50 MiB",
                    "body": "Tệp đính kèm lớn.", "audience": [branch["organization_id"]]}, status=201)  # fmt: skip
    part = f"file=@{pdf_file};filename=Tài liệu học tập.pdf;type=application/pdf"
    upload = curl(f"{base}/documents/{document['id']}/attachments", [f"Authorization: Bearer {secretary}"],
                  "-f", "-o", os.devnull, "-F", part)  # fmt: skip
    began = time.perf_counter()
    subprocess.run(upload, check=True)
    uploaded = time.perf_counter() - began
    call(base, "POST", f"/documents/{document['id']}/publish", secretary)
    member = sign_in(base, MEMBER)
    return f"{base}/documents/{document['id']}/attachments/1", [f"Authorization: Bearer {member}"], uploaded


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
            with throwaway_suite("sotay-bench-attachments") as started:
                route, member, uploaded = published_attachment(started.base, static / "document.pdf")
                urls = {
                    "route": (route, member),
                    "blob_response": (f"http://127.0.0.1:{blob_port}/", []),
                    "static": (f"http://127.0.0.1:{static_port}/document.pdf", []),
                }
                for url, _ in list(urls.values())[1:]:
                    wait_for(lambda url=url: answers(url), timeout=30, interval=0.2, message=url)
                fetch(*urls["route"])  # warm: the gateway's and content's first call of the route
                gateway = started.suite.processes["gateway"].pid
                with Resident(gateway) as memory:
                    rates = {name: [] for name in urls}
                    for _ in range(ROUNDS):
                        for name, (url, headers) in urls.items():
                            rates[name].append(fetch(url, headers))
                    together = {name: [] for name in urls}
                    for _ in range(max(3, ROUNDS // 2)):
                        for name, (url, headers) in urls.items():
                            together[name].append(fetch_together(url, headers, CLIENTS))
                    half = [*member, f"Range: bytes={SIZE // 2}-"]
                    resumed = [fetch(route, half, ("206", SIZE // 2)) for _ in range(ROUNDS)]
        finally:
            for server in servers:
                stop_process(server)
    report(rates, together, resumed, uploaded, memory.samples)


def report(rates, together, resumed, uploaded, memory):
    mb, mib = 1_000_000, 1024 * 1024
    one = {name: statistics.median(values) / mb for name, values in rates.items()}
    many = {name: statistics.median(values) / mb for name, values in together.items()}
    print(f"attachments: 50 MiB over loopback, medians of {ROUNDS} ({time.strftime('%Y-%m-%d %H:%M')}); target ≥ 0.8×")
    print(f"  {'':44}{'one download':>14}{f'{CLIENTS} at once':>14}")
    labels = (("route", "GET /documents/{id}/attachments/1 (suite)"),
              ("blob_response", "blob_response (eventlet.wsgi)"), ("static", "static file (http.server)"))  # fmt: skip
    for name, label in labels:
        print(f"  {label:44}{one[name]:>9.0f} MB/s{many[name]:>9.0f} MB/s")
    for name in ("route", "blob_response"):
        ratios = one[name] / one["static"], many[name] / many["static"]
        print(f"  {f'ratio {name} ÷ static':44}{ratios[0]:>13.2f}×{ratios[1]:>13.2f}×")
    print(f"  resumed from the middle through the route (Range, 206): {statistics.median(resumed) / mb:.0f} MB/s")
    print(f"  uploaded through the API in {uploaded:.1f} s ({SIZE / uploaded / mb:.0f} MB/s)")
    print(f"  gateway resident memory: {memory[0] / mib:.0f} MiB before, peak {max(memory) / mib:.0f} MiB during "
          f"{len(memory)} samples (+{(max(memory) - memory[0]) / mib:.1f} MiB)")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve_blob(int(sys.argv[2]), sys.argv[3])
    else:
        main()
