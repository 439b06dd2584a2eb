"""What every service does from its first line (the tests `make new-service` writes call these)."""

import requests
from nameko import config as nameko_config
from nameko.testing.services import worker_factory

from shared import operations
from tests.support.waiting import free_port, wait_for


def assert_unhealthy_without_its_broker(service_cls, monkeypatch):
    """Its /health answers 503 naming itself and the broker when no broker answers (no broker needed)."""
    monkeypatch.setattr(operations, "broker_reachable", lambda: False)
    status, body = worker_factory(service_cls).health(None)
    assert status == 503
    assert body["service"] == service_cls.name and body["checks"]["broker"] is False


def assert_ready_once_identity_answers(name, prepare, containers):
    """Prepared and started on a real broker and database: not ready while identity cannot give it the ended
    sessions (no signed-in member may be served before), ready once identity answers; /metrics served."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with nameko_config.patch({"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}):
        containers(prepare(name))
    waiting = requests.get(f"{base}/health", timeout=10)
    assert waiting.status_code == 503 and waiting.json()["checks"]["ended_sessions"] is False
    containers(prepare("identity"))
    wait_for(
        lambda: requests.get(f"{base}/health", timeout=10).status_code == 200,
        timeout=30,
        message=f"{name} ready once identity answers",
    )
    assert requests.get(f"{base}/health", timeout=10).json() == {
        "status": "ok",
        "service": name,
        "checks": {"broker": True, "database": True, "ended_sessions": True},
    }
    metrics = requests.get(f"{base}/metrics", timeout=10)
    assert metrics.status_code == 200 and f'service="{name}"' in metrics.text
