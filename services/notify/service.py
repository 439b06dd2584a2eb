"""notify (stub for now): delivers one-time codes and messages.

The embedded default appends each SMS as one JSON line to
`$DATA_DIR/outbox/sms.jsonl` (API.md); real channels come with the notify issue.
"""
import json
from datetime import datetime, timezone

from nameko.rpc import rpc

from shared import config
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.validation import load
from services.notify.schemas import SmsRequest


def append_line(channel, record):
    directory = config.data_dir() / "outbox"
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{channel}.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


class NotifyService(Operations):
    name = "notify"

    telemetry = Telemetry()

    @rpc
    def send_otp(self, message):
        """A one-time code for identity (its own priority queue comes with the notify issue)."""
        return self.send_sms(message)

    @rpc
    def send_sms(self, message):
        message = load(SmsRequest(), message)
        append_line("sms", {"to": message["to"], "text": message["text"],
                            "sent_at": datetime.now(timezone.utc).isoformat()})
        return {"status": "sent"}
