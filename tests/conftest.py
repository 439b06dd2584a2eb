import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet announces its bugfix-only status on import
    import eventlet

eventlet.monkey_patch()  # before anything opens a socket: nameko needs green I/O

import os  # noqa: E402

import pytest  # noqa: E402
from nameko import config as nameko_config  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402

from shared import registry  # noqa: E402
from tests.support import rabbit  # noqa: E402

for variable in (
    "DATA_DIR",
    "IDENTITY_KEYS_DIR",
    "SOTAY_ENV",
    *(service.database_url_variable for service in registry.with_database()),
):
    os.environ.pop(variable, None)

FAST_RETRIES = "0.2,0.4"
# the browser tests run without eventlet, in a process of their own (tests/e2e/test_portal_browser.py)
collect_ignore = ["browser"]


@pytest.fixture
def vhost():
    """A RabbitMQ vhost of this test's own: durable queues never leak between tests."""
    name, uri = rabbit.create_vhost()
    try:
        yield uri
    finally:
        rabbit.delete_vhost(name)


@pytest.fixture
def amqp_uri(vhost):
    return vhost


# a broker call from a test that was given no broker fails at once (nothing listens on port 1)
NO_BROKER = "amqp://guest:guest@127.0.0.1:1/"


@pytest.fixture
def database_settings(tmp_path):
    """nameko's global config for a test with databases of its own (under tmp_path) and no broker."""
    values = {
        "AMQP_URI": NO_BROKER,
        "DATA_DIR": str(tmp_path / "var"),
        "WEB_SERVER_ADDRESS": "127.0.0.1:0",  # each container its own ephemeral port
        "EVENT_RETRY_DELAYS": FAST_RETRIES,
        "EVENT_OUTAGE_RETRY_DELAY": 0.5,
        "OUTBOX_POLL_INTERVAL": 0.1,
        "RPC_TIMEOUT": 5,
        "ENDED_SESSIONS_RETRY_INTERVAL": 0.1,
        "QUEUE_TYPE": "classic",
        "SOTAY_ENV": "test",
    }
    with nameko_config.patch(values, clear=True):
        yield values


@pytest.fixture
def settings(database_settings, amqp_uri):
    """nameko's global config for in-process containers of this test, on its own vhost."""
    with nameko_config.patch({"AMQP_URI": amqp_uri}):
        yield {**database_settings, "AMQP_URI": amqp_uri}


@pytest.fixture
def prepare(settings):
    """Migrate a service's database and declare its queues, as `shared.cli prepare` does."""
    from kombu import Connection

    from shared import config, migrations, topology
    from shared.serve import service_class

    def run(name, service_cls=None):
        if service_cls is None:
            migrations.upgrade(name)
            service_cls = service_class(name)
        with Connection(config.amqp_uri()) as conn:
            topology.declare_service(conn, service_cls)
        return service_cls

    return run


@pytest.fixture
def containers(settings):
    """Start service containers in this process; all are stopped at the end of the test."""
    started = []

    def start(service_cls):
        container = ServiceContainer(service_cls)
        container.start()
        started.append(container)
        return container

    yield start
    for container in reversed(started):
        try:
            container.stop()
        except Exception:
            container.kill()
