import json
import logging

from shared import logs


def test_log_lines_are_json_and_carry_the_workers_correlation_id():
    record = logging.LogRecord("sotay", logging.INFO, __file__, 1, "signed in", (), None)
    token = logs.correlation_id.set("c0ffee0123")
    try:
        logs.ContextFilter().filter(record)
    finally:
        logs.correlation_id.reset(token)
    line = json.loads(logs.JsonFormatter(service="identity").format(record))
    assert line["correlation_id"] == "c0ffee0123"
    assert (line["service"], line["level"], line["message"]) == ("identity", "INFO", "signed in")
