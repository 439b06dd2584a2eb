"""Run one service: `python -m shared.serve <service>` (what `make run-service` and deploy/ use).

Equivalent to `nameko run --config services/<s>/config.yaml services.<s>.service`,
but SIGTERM stops the service at once: nameko's own handler waits for the
eventlet hub to wake, which an idle service may not do for up to a minute.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402  (before anything imports socket or threading)

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


def _interrupt(signum, frame):
    raise KeyboardInterrupt


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
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    runner.start()
    logging.getLogger("sotay").info("%s started", name)
    try:
        runner.wait()
    except KeyboardInterrupt:
        try:
            runner.stop()
        except KeyboardInterrupt:
            runner.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
