"""The whole suite as `make run` starts it, on a broker vhost, data directory and ports of its own
(end-to-end tests and benchmarks)."""

import atexit
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

from shared import registry
from shared.devrun import Suite
from tests.support import rabbit
from tests.support.waiting import free_port

PORT_VARIABLES = (*registry.port_variables(), "VNEID_DEV_PORT")
# every request of a test or benchmark comes from 127.0.0.1: the per-address limits are tested on their own
NO_ADDRESS_LIMITS = {"AUTH_ATTEMPTS_PER_MINUTE": "100000000", "CODE_REQUESTS_PER_ADDRESS_PER_HOUR": "100000000"}


@dataclass
class Started:
    suite: Suite
    base: str  # the API: http://127.0.0.1:<port>/api/v1
    data_dir: str
    amqp_uri: str
    ports: dict
    env: dict

    @property
    def metrics_url(self):
        return f"http://127.0.0.1:{self.ports['GATEWAY_METRICS_PORT']}/metrics"


# a data directory migrated and seeded by this process's first suite on SQLite, before it started: the later ones
# copy it rather than run every migration and both seeds again (the demo data is the same for each); removed at exit
_template = {}


def _keep_as_template(data_dir):
    folder = tempfile.mkdtemp(prefix="sotay-template-")
    shutil.copytree(data_dir, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("suite.log"))
    atexit.register(shutil.rmtree, folder, True)
    _template["folder"] = folder


def on_sqlite(env):
    return not any(env.get(service.database_url_variable) for service in registry.with_database())


@contextmanager
def throwaway_suite(prefix, env=None, keep_data=False, cpus=None):
    """Prepared, seeded, started and healthy; stopped, with its vhost and (unless `keep_data`) its data, after.
    When it cannot start, the end of its log is printed. `cpus`: {service: cores} (shared.devrun.Suite)."""
    vhost, uri = rabbit.create_vhost(prefix.replace("-", "_"))
    data_dir = tempfile.mkdtemp(prefix=f"{prefix}-")
    # a port the caller chose (e.g. the gateway's, registered with an OpenID provider first) is kept
    ports = {variable: (env or {}).get(variable) or str(free_port()) for variable in PORT_VARIABLES}
    env = {"AMQP_URI": uri, "DATA_DIR": data_dir, "HTTP_HOST": "127.0.0.1", **NO_ADDRESS_LIMITS, **ports, **(env or {})}
    log = open(os.path.join(data_dir, "suite.log"), "w")
    suite = Suite(env=env, output=log, cpus=cpus)
    try:
        if on_sqlite(suite.env) and _template:
            shutil.copytree(_template["folder"], data_dir, dirs_exist_ok=True)
            suite.prepare()  # this vhost's queues; the copied databases are at the latest migration already
        else:
            suite.prepare()
            suite.seed()
            if on_sqlite(suite.env):
                _keep_as_template(data_dir)
        suite.start()
        suite.wait_healthy()
        yield Started(suite, f"http://127.0.0.1:{ports['GATEWAY_PORT']}/api/v1", data_dir, uri, ports, env)
    except (subprocess.CalledProcessError, RuntimeError):
        log.flush()
        print(open(log.name).read()[-5000:])
        raise
    finally:
        suite.stop()
        log.close()
        rabbit.delete_vhost(vhost)
        if not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
