"""Structured logs (one JSON object a line) that carry the correlation id.

The worker's correlation id lives in a context variable (each green thread
has its own), set by `Telemetry` when a worker starts; `ContextFilter` copies
it onto every record. Log messages never carry secrets or personal data:
log ids and outcomes, not citizen IDs, names, phones or tokens.
"""

import contextvars
import json
import logging
from datetime import UTC, datetime

correlation_id = contextvars.ContextVar("correlation_id", default=None)


class ContextFilter(logging.Filter):
    def filter(self, record):
        record.correlation_id = correlation_id.get()
        return True


class DropWorkerErrors(logging.Filter):
    """nameko logs a failed worker with the exception's text, which can hold personal data;
    `Telemetry` logs those failures instead, with the error type and the stack only."""

    def filter(self, record):
        return "error handling worker" not in str(record.msg)


def log_worker_failure(logger, name, exc_info):
    import traceback

    stack = "".join(traceback.format_tb(exc_info[2]))
    logger.error("%s failed with %s\n%s", name, exc_info[0].__name__, stack)


class JsonFormatter(logging.Formatter):
    def __init__(self, service="sotay", **kwargs):
        super().__init__()
        self.service = service

    def format(self, record):
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "correlation_id", None):
            entry["correlation_id"] = record.correlation_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(service, level="INFO"):
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "shared.logs.ContextFilter"},
            "worker_errors": {"()": "shared.logs.DropWorkerErrors"},
        },
        "formatters": {"json": {"()": "shared.logs.JsonFormatter", "service": service}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]}},
        "loggers": {"nameko.containers": {"filters": ["worker_errors"]}},
        "root": {"level": level, "handlers": ["console"]},
    }
