"""Run one service: `python -m shared.serve <service>` (what `make run-service` and deploy/ use).

Equivalent to `nameko run --config services/<s>/config.yaml services.<s>.service`,
but SIGTERM (or Ctrl-C) stops the service within 5 s: nameko's own handler waits
for the eventlet hub to wake, which an idle service may not do for up to a minute.
"""

import eventlet

eventlet.monkey_patch()  # before anything imports socket or threading

import os  # noqa: E402

# psycopg waits for PostgreSQL in C (poll) unless it sees gevent's patching; under eventlet that would
# stop every green thread of the service for the length of each query: wait through the green select
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import gc  # noqa: E402
import importlib  # noqa: E402
import logging.config  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from shared import config, logs  # noqa: E402


def service_class(name):
    module = importlib.import_module(f"services.{name}.service")
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "name", None) == name and value.__module__ == module.__name__:
            return value
    raise SystemExit(f"no service named {name!r} in services/{name}/service.py")


STOP_DEADLINE = 5.0  # seconds: work in flight finishes or goes back to the broker, then the process ends

_stop_requested = []


def _request_stop(signum, frame):
    # only a flag: a signal lands in whichever green thread runs, so raising here would hit a random one
    _stop_requested.append(signum)


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    if len(argv) != 1:
        raise SystemExit("usage: python -m shared.serve <service>")
    name = argv[0]
    config.keep_files_private()
    settings = config.load(name)
    logging.config.dictConfig(settings.get("LOGGING") or logs.logging_config(name, settings.get("LOG_LEVEL", "INFO")))
    runner = ServiceRunner()
    runner.add_service(service_class(name))
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    runner.start()
    # what start-up built (modules, schemas, routes, the containers: most of a service's objects) lives as long as
    # the process: out of the collector's reach, a full collection walks only what requests made. A gateway's
    # 304s had p99 61-63 ms at 50 connections, 27 ms frozen (bench/README.md)
    gc.freeze()
    logging.getLogger("sotay").info("%s started", name)
    serving = eventlet.spawn(runner.wait)
    while not _stop_requested and not serving.dead:
        eventlet.sleep(0.1)
    if serving.dead:  # the container died: exit non-zero so a supervisor restarts it, never linger
        try:
            serving.wait()
        except Exception:
            logging.getLogger("sotay").exception("%s died", name)
        return 1
    try:
        with eventlet.Timeout(STOP_DEADLINE):
            runner.stop()
    except eventlet.Timeout:
        logging.getLogger("sotay").warning("%s did not stop within %.0f s: killed", name, STOP_DEADLINE)
        runner.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
