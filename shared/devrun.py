"""`make run`: the whole suite on this machine (embedded default).

Prepares every service of services/registry.yaml (migrations, queues), seeds
demo data into an empty DATA_DIR, starts each as a separate process in the
registry's order, waits until each answers /health, and prints how to sign in.
Ctrl-C stops them all. The end-to-end tests drive the same `Suite`.

`REPLICAS=N` (every service) or `REPLICAS_<NAME>=N` (one service) starts N processes of a service: competing
consumers on its queues. The gateway's replicas share the clients' port (SO_REUSEPORT, which eventlet's listen sets
on a fixed port: the kernel spreads connections); every other port (/health, /metrics) is a replica's own. Several
processes on one SQLite file stall one another's event loop (SQLite waits for the write lock in C) and may claim a
row twice, so more than one replica needs PostgreSQL (`<NAME>_DATABASE_URL`): refused otherwise.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from shared import config, registry


def broker_answers(uri, timeout=3):
    from kombu import Connection

    try:
        with Connection(uri, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:
        return False


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReplicasNeedPostgreSQL(ValueError):
    """More than one process of a service whose database is a SQLite file."""


def replica_counts(env, services):
    """{service: how many processes}: REPLICAS_<NAME>, else REPLICAS, else 1. Raises ReplicasNeedPostgreSQL."""
    counts = {}
    for name in services:
        value = env.get(f"REPLICAS_{name.upper()}") or env.get("REPLICAS") or "1"
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"REPLICAS_{name.upper()}/REPLICAS: a whole number ≥ 1, not {value!r}")
        counts[name] = int(value)
        entry = registry.service(name)
        if counts[name] > 1 and entry.database and not env.get(entry.database_url_variable, "").startswith("postgres"):
            raise ReplicasNeedPostgreSQL(
                f"{name}: {counts[name]} bản sao cần PostgreSQL (đặt {entry.database_url_variable}) — nhiều tiến trình "
                f"trên một tệp SQLite chặn nhau / {counts[name]} replicas need PostgreSQL "
                f"(set {entry.database_url_variable}): processes sharing a SQLite file stall each other"
            )
    return counts


def redact(uri):
    parts = urllib.parse.urlsplit(uri)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Suite:
    """The services as child processes sharing one environment."""

    def __init__(self, env=None, services=None, output=None, cpus=None):
        self.env = {**os.environ, **(env or {})}
        # {service: "1"}: that service's processes run on those cores only (`taskset -c`), as a deployment that
        # gives a service cores of its own would run it (bench/signin.py)
        self.cpus = cpus or {}
        self.env.setdefault("PYTHONWARNINGS", "ignore")
        self.env.setdefault("LOG_LEVEL", "WARNING")  # a calm terminal; LOG_LEVEL=INFO make run for more
        self.services = services or registry.names()
        self.output = output  # None: inherit the terminal
        self.replicas = replica_counts(self.env, self.services)
        self.processes = {}  # replica 0 under the service's name, the others as "<service>#<n>"
        self.health_ports = {}
        self.dev_idp = not self.env.get("VNEID_ISSUER")
        if self.dev_idp:
            self._configure_dev_idp()

    def _configure_dev_idp(self):
        """Without a real VNeID, a local development OpenID Provider stands in (tools/vneid_idp.py)."""
        port = self.env.setdefault("VNEID_DEV_PORT", "8100")
        self.env.update(
            {
                "VNEID_ISSUER": f"http://127.0.0.1:{port}",
                "VNEID_CLIENT_ID": "sotay-dev",
                "VNEID_CLIENT_SECRET": self.env.get("VNEID_DEV_SECRET", "sotay-dev-secret"),
                "VNEID_REDIRECT_URI": f"http://127.0.0.1:{self.port('gateway')}/api/v1/auth/vneid/callback",
            }
        )

    def port(self, service):
        entry = registry.service(service)
        return int(self.env.get(entry.port_variable, entry.port))

    def _python(self, *args, check=True):
        return subprocess.run(
            [sys.executable, *args],
            env=self.env,
            check=check,
            stdout=self.output,
            stderr=subprocess.STDOUT if self.output else None,
            cwd=config.REPO_ROOT,
            umask=config.PRIVATE_UMASK,
        )

    def _popen(self, *args, env=None, pinned=()):
        return subprocess.Popen(
            [*pinned, sys.executable, *args],
            env=env or self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT if self.output else None,
            cwd=config.REPO_ROOT,
            umask=config.PRIVATE_UMASK,
        )

    def prepare(self):
        self._python("-m", "shared.cli", "prepare", *self.services)  # one process: the imports once

    def seed(self):
        """Every seeded service's demo data, the seeds all at once: each writes only its own database, and a
        seed process mostly imports, which two cores do side by side."""
        seeding = [
            (service, self._popen("-m", f"services.{service}.seed"))
            for service in self.services
            if registry.service(service).seeded
        ]
        failed = [(service, process.returncode) for service, process in seeding if process.wait()]
        if failed:  # after every seed has ended: none left writing behind the caller
            raise subprocess.CalledProcessError(failed[0][1], f"services.{failed[0][0]}.seed")

    def replica_names(self, service):
        return [service] + [f"{service}#{n}" for n in range(1, self.replicas[service])]

    def _replica_env(self, service, index):
        """Replica 0 keeps the configured ports; the others take free ones, except the clients' port, shared."""
        entry = registry.service(service)
        env = dict(self.env, SOTAY_REPLICA=str(index))
        if index:
            if not entry.public:
                env[entry.port_variable] = str(unused_port())
            if entry.metrics_port_variable:
                env[entry.metrics_port_variable] = str(unused_port())
        health = entry.metrics_port_variable if entry.public and entry.metrics_port else entry.port_variable
        default = entry.metrics_port if health == entry.metrics_port_variable else entry.port
        return env, int(env.get(health, default))

    def _spawn(self, service, index=0):
        name = self.replica_names(service)[index]
        env, self.health_ports[name] = self._replica_env(service, index)
        pinned = ["taskset", "-c", self.cpus[service]] if service in self.cpus else []
        self.processes[name] = self._popen("-m", "shared.serve", service, env=env, pinned=pinned)

    def kill_replica(self, name):
        """SIGKILL one process (`service` or `service#n`): a replica dying mid-work."""
        self.processes[name].kill()
        self.processes[name].wait()

    def stop_service(self, service, grace=15):
        """Stop one service's first process (SIGTERM), e.g. to see what a restarted replica does."""
        process = self.processes[service]
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start_service(self, service):
        self._spawn(service)

    def start(self):
        if self.dev_idp:
            data_dir = self.env.get("DATA_DIR", "var")
            os.makedirs(data_dir, mode=0o700, exist_ok=True)
            client = ":".join(
                (self.env["VNEID_CLIENT_ID"], self.env["VNEID_CLIENT_SECRET"], self.env["VNEID_REDIRECT_URI"])
            )
            self.processes["vneid-dev"] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tools.vneid_idp",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    self.env["VNEID_DEV_PORT"],
                    "--client",
                    client,
                    "--keys-file",
                    os.path.join(data_dir, "vneid-dev-key.pem"),
                ],
                env=self.env,
                cwd=config.REPO_ROOT,
                stdout=self.output,
                umask=config.PRIVATE_UMASK,
                stderr=subprocess.STDOUT if self.output else None,
            )
        for service in self.services:
            for index in range(self.replicas[service]):
                self._spawn(service, index)

    def wait_healthy(self, timeout=None):
        timeout = timeout or 60 * max(self.replicas.values())  # every process of a service starts at once
        deadline = time.monotonic() + timeout
        checks = [
            (name, f"http://127.0.0.1:{self.health_ports[name]}/health")
            for service in self.services
            for name in self.replica_names(service)
        ]
        if self.dev_idp:
            checks.append(("vneid-dev", self.env["VNEID_ISSUER"] + "/.well-known/openid-configuration"))
        for service, url in checks:
            while True:
                process = self.processes[service]
                if process.poll() is not None:
                    raise RuntimeError(f"{service} exited with status {process.returncode}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service} did not become healthy within {timeout}s")
                time.sleep(0.2)

    def stop(self, grace=15):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def exited(self):
        return {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}


BANNER = """
Sổ tay đang chạy / Sổ tay is running:  http://127.0.0.1:{port}/api/v1
  OpenAPI: http://127.0.0.1:{port}/api/v1/openapi.json

Đăng nhập thử / Try signing in (password {password}):
  curl -s -X POST http://127.0.0.1:{port}/api/v1/auth/login \\
       -H 'Content-Type: application/json' \\
       -d '{{"citizen_id": "001000000002", "password": "{password}"}}'
  curl -s http://127.0.0.1:{port}/api/v1/me -H "Authorization: Bearer <access_token>"

Tài khoản mẫu / Demo accounts: 001000000000 admin · 001000000001 secretary · 001000000002 member
(001000000003 and 001000000004 are not activated yet: POST /api/v1/auth/activation; the SMS lands in
{sms}).
VNeID: open http://127.0.0.1:{port}/api/v1/auth/vneid/login in a browser ({idp}).
Ctrl-C để dừng / to stop.
"""


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main():
    # Ctrl-C and a plain `kill` both stop the suite (even when started in the background)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    uri = os.environ.get("AMQP_URI", config.DEFAULT_AMQP_URI)
    if not broker_answers(uri):
        print(
            f"RabbitMQ không trả lời tại {redact(uri)} — hãy khởi động: `rabbitmq-server -detached` "
            f"/ no broker answers at {redact(uri)}: start one with `rabbitmq-server -detached`.",
            file=sys.stderr,
        )
        return 1
    try:
        suite = Suite()
    except ValueError as exc:
        print(f"Không khởi động được / could not start: {exc}", file=sys.stderr)
        return 2
    try:
        suite.prepare()
        suite.seed()
        suite.start()
        suite.wait_healthy()
    except (subprocess.CalledProcessError, RuntimeError) as exc:
        print(f"Không khởi động được / could not start: {exc}", file=sys.stderr)
        suite.stop()
        return 1
    except KeyboardInterrupt:
        suite.stop()
        return 130
    idp = (
        f"development stand-in at {suite.env['VNEID_ISSUER']}: type any demo citizen ID"
        if suite.dev_idp
        else suite.env["VNEID_ISSUER"]
    )
    sms = os.path.join(os.path.abspath(suite.env.get("DATA_DIR", "var")), "outbox", "sms.jsonl")
    print(BANNER.format(port=suite.port("gateway"), password="sotay-demo-2026", idp=idp, sms=sms), flush=True)
    try:
        while not suite.exited():
            time.sleep(0.5)
        print(f"Một dịch vụ đã dừng / a service stopped: {suite.exited()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nĐang dừng / stopping…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan the services
        suite.stop()
        print("Đã dừng / stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
