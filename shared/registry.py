"""The services of the suite, as `services/registry.yaml` lists them (data only: this module knows none).

    from shared import registry
    registry.names()                       # start order
    registry.service("members").port       # 8002

`python -m shared.registry` prints the names, one a line (for shell scripts such as the Dockerfile).
"""

import re
import sys
from dataclasses import dataclass, field
from functools import cache

import yaml

from shared import config

PATH = config.REPO_ROOT / "services" / "registry.yaml"
NAME = re.compile(r"[a-z][a-z0-9]{1,30}")  # a Python package, a database, a broker user, a DNS label
KEYS = {
    "port",
    "port_variable",
    "public",
    "metrics_port",
    "database",
    "seeded",
    "replicas",
    "resources",
    "secrets",
    "environment",
    "imports",
    "blobs",
    "personal_data",
}
DEFAULT_RESOURCES = {"cpu": ("100m", "1"), "memory": ("192Mi", "512Mi")}


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    port_variable: str
    public: bool = False
    metrics_port: int | None = None
    database: bool = False
    seeded: bool = False
    replicas: tuple = (2, 2)  # (min, max): autoscaled when they differ
    resources: dict = field(default_factory=lambda: dict(DEFAULT_RESOURCES), hash=False)
    required_secrets: tuple = ()
    optional_secrets: tuple = ()
    environment: dict = field(default_factory=dict, hash=False)
    imports: bool = False
    blobs: bool = False
    personal_data: bool = False

    @property
    def prefix(self):
        return self.name.upper()

    @property
    def metrics_port_variable(self):
        return f"{self.prefix}_METRICS_PORT" if self.metrics_port else None

    @property
    def scrape_port(self):
        """Where Prometheus reads its /metrics."""
        return self.metrics_port or self.port

    @property
    def database_url_variable(self):
        return f"{self.prefix}_DATABASE_URL" if self.database else None

    @property
    def sqlite_file(self):
        """Its SQLite file under DATA_DIR (the embedded default)."""
        return f"{self.name}.db" if self.database else None

    @property
    def autoscaled(self):
        return self.replicas[0] != self.replicas[1]

    def secret_key(self, variable):
        """The key of a setting in the service's own secret: its variable without the service's prefix
        (IDENTITY_OTP_KEY is OTP_KEY in sotay-identity, VNEID_ISSUER stays VNEID_ISSUER)."""
        return variable.removeprefix(f"{self.prefix}_")


def _service(name, entry):
    where = f"{PATH.name}: {name}"
    if not NAME.fullmatch(name):
        raise ValueError(f"{where}: a name is 2 to 31 lower-case letters and digits, starting with a letter")
    unknown = set(entry) - KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(entry.get("port"), int):
        raise ValueError(f"{where}: `port` (an integer) is required")
    replicas = entry.get("replicas", 2)
    replicas = tuple(replicas) if isinstance(replicas, list) else (replicas, replicas)
    secrets = entry.get("secrets") or {}
    resources = {kind: tuple(values) for kind, values in {**DEFAULT_RESOURCES, **entry.get("resources", {})}.items()}
    return Service(
        name=name,
        port=entry["port"],
        port_variable=entry.get("port_variable", f"{name.upper()}_HTTP_PORT"),
        public=bool(entry.get("public")),
        metrics_port=entry.get("metrics_port"),
        database=bool(entry.get("database")),
        seeded=bool(entry.get("seeded")),
        replicas=replicas,
        resources=resources,
        required_secrets=tuple(secrets.get("required", ())),
        optional_secrets=tuple(secrets.get("optional", ())),
        environment={key: str(value) for key, value in (entry.get("environment") or {}).items()},
        imports=bool(entry.get("imports")),
        blobs=bool(entry.get("blobs")),
        personal_data=bool(entry.get("personal_data")),
    )


def parse(text):
    """The services a registry text describes, in its order; ValueError says what is wrong."""
    entries = (yaml.safe_load(text) or {}).get("services") or {}
    found = tuple(_service(name, entry or {}) for name, entry in entries.items())
    ports = [port for s in found for port in (s.port, s.metrics_port) if port]
    clashes = sorted({port for port in ports if ports.count(port) > 1})
    if clashes:
        raise ValueError(f"{PATH.name}: ports used twice: {clashes}")
    return found


@cache
def services():
    return parse(PATH.read_text(encoding="utf-8"))


def names():
    return tuple(s.name for s in services())


def service(name):
    for candidate in services():
        if candidate.name == name:
            return candidate
    raise KeyError(f"no service {name!r} in {PATH}")


def keeping_personal_data():
    """The services that answer `export_member` and `erase_member` (a member's data, the personal data law)."""
    return tuple(s.name for s in services() if s.personal_data)


def with_database():
    return tuple(s for s in services() if s.database)


# The PostgreSQL server the deployments share (compose starts it with this setting; a Kubernetes deployment sizes its
# server to it) and what is kept back from the services: superuser slots, the prepare jobs' migrations, backups, psql.
POSTGRES_MAX_CONNECTIONS = 400
POSTGRES_RESERVED = 40


def database_pool(processes):
    """(pool_size, max_overflow) for every process of a database service, when `processes` processes of all the
    services together may run at once: all of them at their fullest fit the server's connections. Capped at what
    one process uses (nameko's 10 workers, the relays and the scheduler: the library's defaults, 20 + 10)."""
    per_process = (POSTGRES_MAX_CONNECTIONS - POSTGRES_RESERVED) // processes
    pool = max(2, min(20, per_process * 2 // 3))
    return pool, max(1, min(10, per_process - pool))


def port_variables():
    """Every variable that sets a port of a service (HTTP and operations)."""
    return tuple(v for s in services() for v in (s.port_variable, s.metrics_port_variable) if v)


if __name__ == "__main__":
    sys.stdout.write("".join(f"{name}\n" for name in names()))
