"""The baseline: a bare nameko HTTP → RPC → reply hop, no auth, no database.

`python -m bench.echo rpc|http` runs one side; the bench starts each in its
own process, as the suite's gateway and members are.
"""

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko import config  # noqa: E402
from nameko.rpc import ServiceRpc, rpc  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from nameko.web.handlers import http  # noqa: E402


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, value):
        return value


class EchoGateway:
    name = "bench_echo_gateway"

    echo_rpc = ServiceRpc("bench_echo")

    @http("GET", "/echo")
    def echo(self, request):
        return 200, {"Content-Type": "application/json"}, json.dumps(self.echo_rpc.echo({"ok": True}))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(role):
    config.setup(
        {
            "AMQP_URI": os.environ["AMQP_URI"],
            "max_workers": 100,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{os.environ.get('ECHO_PORT', '8090')}",
        }
    )
    runner = ServiceRunner()
    runner.add_service(EchoService if role == "rpc" else EchoGateway)
    signal.signal(signal.SIGTERM, _interrupt)
    runner.start()
    try:
        runner.wait()
    except KeyboardInterrupt:
        runner.stop()


if __name__ == "__main__":
    main(sys.argv[1])
