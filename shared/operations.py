"""`/health` and `/metrics` for every service (mixed into each service class)."""

from kombu import Connection
from sqlalchemy import text
from werkzeug.wrappers import Response

from shared import config, metrics
from shared.http import api, operations_api


def broker_reachable():
    try:
        with Connection(config.amqp_uri(), connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


class Operations:
    """Needs nothing from the service but optional `db` (Database) and `caller` (Caller) attributes."""

    @api("GET", "/health")
    def health(self, request):
        checks = {"broker": broker_reachable()}
        database = getattr(self, "db", None)
        if database is not None:
            try:
                database.session.execute(text("SELECT 1"))
                checks["database"] = True
            except Exception:
                checks["database"] = False
        caller = getattr(self, "caller", None)
        if caller is not None:
            # not ready until ended sessions are restored: no token can be accepted before
            checks["ended_sessions"] = caller.sessions_ready
        healthy = all(checks.values())
        return (200 if healthy else 503), {
            "status": "ok" if healthy else "unavailable",
            "service": self.name,
            "checks": checks,
        }

    @api("GET", "/metrics")
    def metrics(self, request):
        return exposition()


class PublicOperations(Operations):
    """For a service whose HTTP port faces clients (the gateway): /metrics on the operations port
    (OPERATIONS_ADDRESS) instead, so the Internet cannot read its traffic figures."""

    @operations_api("GET", "/metrics")
    def metrics(self, request):
        return exposition()

    # the clients' port may be shared by replicas (SO_REUSEPORT): this one says how this very process is
    @operations_api("GET", "/health")
    def operations_health(self, request):
        return Operations.health(self, request)


def exposition():
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
