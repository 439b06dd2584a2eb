"""Delivery channels behind one interface: `send(destination, subject, text, key)` or DeliveryError.

`key` is the delivery's idempotency key: a message handed over again after a crash
(its sender died before recording it as sent) carries the same key, and a channel that
honours keys drops the repeat — the file sinks and tools/sms_gateway_standin.py do; the
HTTP SMS gateway gets it as `Idempotency-Key` and `id`, e-mail as its Message-ID.

Embedded default: SMS, e-mail and push append JSON lines under $DATA_DIR/outbox/
(API.md). Configured by environment: e-mail over SMTP (SMTP_HOST…), SMS through an
HTTP SMS gateway (SMS_GATEWAY_URL, SMS_GATEWAY_TOKEN), push through Web Push
(VAPID_PRIVATE_KEY, VAPID_SUBJECT) and FCM (FCM_URL, FCM_TOKEN).
"""

import json
import os
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage

import requests

from shared import config


class DeliveryError(Exception):
    """The channel did not take the message (retried later, then recorded as failed)."""


class FileSink:
    """The embedded default: one JSON line per message; a repeated key is dropped."""

    def __init__(self, name):
        self.name = name
        self._keys = {}  # sink file → keys already in it (read once per process)

    def _keys_in(self, path):
        if path not in self._keys:
            keys = set()
            if path.exists():
                with open(path, encoding="utf-8") as handle:
                    for line in handle:
                        try:
                            keys.add(json.loads(line).get("id"))
                        except ValueError:  # a line cut short by a crash
                            continue
            self._keys[path] = keys
        return self._keys[path]

    def send(self, destination, subject, text, key=None):
        directory = config.data_dir() / "outbox"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / f"{self.name}.jsonl"
        keys = self._keys_in(path)
        if key is not None and key in keys:
            return
        record = {"to": destination, "text": text, "sent_at": datetime.now(UTC).isoformat()}
        if subject:
            record["subject"] = subject
        if key is not None:
            record["id"] = key
        # the sink holds one-time codes: its owner alone may read it
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        if key is not None:
            keys.add(key)


class SmtpEmail:
    def __init__(self, host, port, sender, user=None, password=None, starttls=False, timeout=10):
        self.host, self.port, self.sender = host, int(port), sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, destination, subject, text, key=None):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, destination, subject or "Sổ tay"
        if key is not None:  # receiving systems drop a repeated Message-ID
            message["Message-ID"] = f"<{key}@{self.sender.rpartition('@')[2] or 'sotay'}>"
        message.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp: {type(exc).__name__}") from None


class HttpSms:
    """A generic SMS gateway: POST {"to", "text"} with a bearer token; any 2xx is accepted."""

    def __init__(self, url, token=None, timeout=5):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, destination, subject, text, key=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"to": destination, "text": text}
        if key is not None:
            headers["Idempotency-Key"] = body["id"] = key
        try:
            response = requests.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"sms gateway: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"sms gateway: HTTP {response.status_code}")


class Push:
    """Push to one device: Web Push (VAPID) for browsers, FCM's HTTP API for the phone apps.
    The destination is the device ({platform, token}) as it was when the message was queued."""

    def __init__(self, vapid_private_key=None, vapid_subject=None, fcm_url=None, fcm_token=None, timeout=5):
        self.vapid_private_key, self.vapid_subject = vapid_private_key, vapid_subject
        self.fcm_url, self.fcm_token, self.timeout = fcm_url, fcm_token, timeout

    def send(self, destination, subject, text, key=None):
        # neither Web Push nor FCM drops a repeat: a crash between sending and recording may show one twice
        device = json.loads(destination)
        if not self._send_one(device, subject, text):
            raise DeliveryError(f"push: the {device.get('platform', 'unknown')} device refused it")

    def _send_one(self, device, subject, text):
        payload = {"title": subject or "Sổ tay", "body": text}
        try:
            if device["platform"] == "web":
                if not self.vapid_private_key:
                    return False
                from pywebpush import WebPushException, webpush

                try:
                    webpush(
                        json.loads(device["token"]),
                        json.dumps(payload, ensure_ascii=False),
                        vapid_private_key=self.vapid_private_key,
                        vapid_claims={"sub": self.vapid_subject},
                        timeout=self.timeout,
                    )
                except WebPushException:
                    return False
                return True
            if not self.fcm_url:
                return False
            response = requests.post(
                self.fcm_url,
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.fcm_token}"},
                json={"message": {"token": device["token"], "notification": payload}},
            )
            return 200 <= response.status_code < 300
        except (requests.RequestException, ValueError, KeyError):
            return False


def vapid_public_key(private_key):
    """The application server key browsers subscribe with (base64url, uncompressed P-256 point), from the VAPID
    private key the deployment configures the way pywebpush reads it: a PEM file's path, or the key itself."""
    if not private_key:
        return None
    import base64
    import os

    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from py_vapid import Vapid

    vapid = Vapid.from_file(private_key) if os.path.isfile(private_key) else Vapid.from_string(private_key)
    raw = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def from_config():
    channels = {"sms": FileSink("sms"), "email": FileSink("email"), "push": FileSink("push")}
    if config.get("SMS_GATEWAY_URL"):
        channels["sms"] = HttpSms(config.get("SMS_GATEWAY_URL"), config.get("SMS_GATEWAY_TOKEN"))
    if config.get("VAPID_PRIVATE_KEY") or config.get("FCM_URL"):
        channels["push"] = Push(
            config.get("VAPID_PRIVATE_KEY"),
            config.get("VAPID_SUBJECT", "mailto:so-tay@localhost"),
            config.get("FCM_URL"),
            config.get("FCM_TOKEN"),
        )
    if config.get("SMTP_HOST"):
        channels["email"] = SmtpEmail(
            config.get("SMTP_HOST"),
            config.get("SMTP_PORT", 25),
            config.get("SMTP_FROM", "so-tay@localhost"),
            config.get("SMTP_USER"),
            config.get("SMTP_PASSWORD"),
            str(config.get("SMTP_STARTTLS", "false")).lower() == "true",
        )
    return channels
