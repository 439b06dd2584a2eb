"""Prometheus metrics with one naming scheme for every service (`sotay_*`).

nameko-prometheus 1.6 reads `container.config`, which nameko 3 removed, so the
suite measures its entrypoints with this small dependency instead.
"""

import logging
import time

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc as RpcEntrypoint
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from werkzeug.exceptions import HTTPException

from shared import logs
from shared.context import CORRELATION_ID_KEY
from shared.errors import SotayError

log = logging.getLogger("sotay.worker")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter("sotay_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "sotay_http_request_duration_seconds",
    "HTTP request duration",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
RPC_CALLS = Counter("sotay_rpc_calls_total", "RPC requests handled", ["service", "method", "outcome"])
RPC_LATENCY = Histogram(
    "sotay_rpc_duration_seconds", "RPC handling duration", ["service", "method"], buckets=LATENCY_BUCKETS
)
EVENTS_HANDLED = Counter("sotay_events_handled_total", "Event deliveries by outcome", ["handler", "outcome"])
EVENTS_DEAD_LETTERED = Counter(
    "sotay_event_dead_lettered_total", "Event deliveries parked on a dead-letter queue", ["handler"]
)
EVENTS_PUBLISHED = Counter("sotay_events_published_total", "Events relayed from the outbox", ["service", "type"])
OUTBOX_PENDING = Gauge("sotay_outbox_pending", "Outbox rows not yet published", ["service"])
OUTBOX_FAILURES = Counter("sotay_outbox_publish_failures_total", "Outbox publish attempts that failed", ["service"])
DELIVERIES = Counter("sotay_deliveries_total", "Messages handed to a channel, by outcome", ["channel", "outcome"])
ENDED_SESSIONS = Gauge("sotay_ended_sessions", "Ended sessions whose access tokens this process refuses", ["service"])
ENDED_SESSIONS_RESTORES = Counter(
    "sotay_ended_sessions_restores_total",
    "Restores of the ended sessions from identity, by outcome",
    ["service", "outcome"],
)
KNOWN_VERSIONS = Gauge("sotay_known_versions", "Member versions a gateway process answers 304 from", ["service"])
CONDITIONAL_READS = Counter(
    "sotay_conditional_reads_total",
    "Reads with a version, by answer: 304 at the gateway (no RPC), 304 after asking the owner, 200 (changed or none)",
    ["route", "answer"],
)
LOGIN_ATTEMPTS = Counter("sotay_login_attempts_total", "Sign-in attempts by outcome", ["outcome"])
SERVICE_CALLS_REFUSED = Counter(
    "sotay_service_calls_refused_total",
    "RPCs refused for their caller's service token (missing, invalid, not allowed)",
    ["service", "reason"],
)


def exposition():
    return generate_latest(), CONTENT_TYPE_LATEST


def _an_answer(exc):
    """Errors that answer the caller (ours, or werkzeug's 4xx such as a body too large), not failures."""
    return isinstance(exc, SotayError) or (isinstance(exc, HTTPException) and (exc.code or 500) < 500)


class Telemetry(DependencyProvider):
    """Per worker: the correlation id for the logs, and RPC timing (HTTP is timed by the HTTP layer)."""

    def setup(self):
        self._started = {}

    def worker_setup(self, worker_ctx):
        logs.correlation_id.set(worker_ctx.context_data.get(CORRELATION_ID_KEY))
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        entrypoint = worker_ctx.entrypoint
        if exc_info is not None and not _an_answer(exc_info[1]):
            logs.log_worker_failure(log, f"{self.container.service_name}.{entrypoint.method_name}", exc_info)
        if started is None or not isinstance(entrypoint, RpcEntrypoint):
            return
        service = self.container.service_name
        RPC_LATENCY.labels(service, entrypoint.method_name).observe(time.perf_counter() - started)
        RPC_CALLS.labels(service, entrypoint.method_name, "error" if exc_info else "ok").inc()

    def worker_teardown(self, worker_ctx):
        self._started.pop(worker_ctx, None)
