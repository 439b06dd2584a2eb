"""notify: inboxes, channels and the delivery log (thin nameko entrypoints)."""
import logging
import threading
import time
import uuid
from datetime import timedelta

import eventlet

from nameko.extensions import DependencyProvider

from shared import config, metrics
from shared.auth import Caller
from shared.contracts.notify import DeviceRegistration, InboxQuery, PreferencesUpdate, SecurityNotice, SmsRequest
from shared.db import Database, utcnow
from shared.entrypoints import rpc
from shared.metrics import Telemetry
from shared.operations import Operations
from shared.projection import reread_members
from shared.rpc import Rpc
from shared.subscriber import subscribe
from shared.validation import load
from services.notify import channels, domain
from services.notify.channels import DeliveryError
from services.notify.models import Base

log = logging.getLogger(__name__)


def _send(channel_map, delivery_id, channel, destination, subject, text):
    channel = channel.split(":", 1)[0]   # "push:<device id>" goes out through "push"
    try:
        channel_map[channel].send(destination, subject, text, domain.idempotency_key(delivery_id))
    except DeliveryError as exc:
        metrics.DELIVERIES.labels(channel, "retry").inc()
        return str(exc)
    metrics.DELIVERIES.labels(channel, "sent").inc()
    return None


class Sender(DependencyProvider):
    """Sends pending deliveries in the background, codes first; woken when new ones are committed.
    Stopping, it finishes the message in hand and hands the rest of its batch back."""

    STOP_GRACE = 4.0   # seconds: every service stops within 5

    def __init__(self, database_attr="db"):
        self.database_attr = database_attr

    def setup(self):
        self.channels = channels.from_config()
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.interval = float(config.get("SENDER_POLL_INTERVAL", 1.0))
        self.lease = timedelta(seconds=float(config.get("SENDER_LEASE_SECONDS", domain.LEASE.total_seconds())))

    def start(self):
        self.container.spawn_managed_thread(self._run, identifier="notify sender")

    def stop(self):
        self.stopped.set()
        self.wake.set()
        self.idle.wait(self.STOP_GRACE)

    def kill(self):
        self.stopped.set()
        self.wake.set()

    def get_dependency(self, worker_ctx):
        return self

    def _database(self):
        return next(d for d in self.container.dependencies if isinstance(d, Database))

    def _run(self):
        while not self.stopped.is_set():
            try:
                while self.send_batch() and not self.stopped.is_set():
                    eventlet.sleep(0)   # between batches, a waiting code (or any request) goes first
            except Exception as exc:
                log.error("sender pass failed with %s", type(exc).__name__)
            self.wake.wait(self.interval)
            self.wake.clear()

    def send_batch(self, limit=200):
        self.idle.clear()
        try:
            return send_batch(self._database(), self.channels, limit, self.lease, self.stopped.is_set)
        finally:
            self.idle.set()


def send_batch(database, channel_map, limit=500, lease=domain.LEASE, stopping=lambda: False):
    """Send one batch of due deliveries, outside any transaction; returns how many were tried.
    The batch's lease is renewed while it takes long; rows not reached before `stopping()` go back."""
    unit = database.unit_of_work("notify.sender")
    try:
        with unit.transaction() as session:
            batch = domain.due_deliveries(session, limit, lease)
        if not batch:
            return 0
        outcomes, renewed = [], time.monotonic()
        for delivery_id, channel, destination, subject, text, _ in batch:
            if stopping():
                break
            outcomes.append((delivery_id, _send(channel_map, delivery_id, channel, destination, subject, text)))
            if time.monotonic() - renewed > lease.total_seconds() / 3:
                with unit.transaction() as session:
                    domain.renew_lease(session, [row[0] for row in batch[len(outcomes):]], lease)
                renewed = time.monotonic()
        with unit.transaction() as session:
            domain.release(session, [row[0] for row in batch[len(outcomes):]])
            for row in domain.record_outcomes(session, outcomes):
                metrics.DELIVERIES.labels(row.channel, "failed").inc()
                unit.publish("notify.delivery_failed", {"channel": row.channel, "reason": row.last_error})
        return len(outcomes)
    finally:
        unit.close()


class NotifyService(Operations):
    name = "notify"

    db = Database(Base.metadata)
    caller = Caller()
    sender = Sender()
    cluster = Rpc(timeout=30)
    telemetry = Telemetry()

    @rpc
    def send_otp(self, message):
        """A one-time code: sent at once, never queued behind a bulk send; retried by the sender if need be."""
        self.caller.require_service("identity")
        message = load(SmsRequest(), message)
        expires_at = message["expires_at"] or utcnow() + domain.CODE_VALIDITY
        with self.db.transaction() as session:
            delivery = domain.code_delivery(session, uuid.uuid4().hex, message["to"], message["text"], expires_at,
                                            self.sender.lease)
            delivery_id = delivery.id
        error = _send(self.sender.channels, delivery_id, "sms", message["to"], None, message["text"])
        with self.db.transaction() as session:
            domain.record_outcomes(session, [(delivery_id, error)])
        if error:
            self.sender.wake.set()
        return {"status": "sent" if error is None else "queued"}

    @rpc
    def send_security_notice(self, message):
        """A phone change or a reset told to the phone and e-mail trusted before it (identity)."""
        self.caller.require_service("identity")
        notice = load(SecurityNotice(), message)
        with self.db.transaction() as session:
            domain.security_notice(session, uuid.uuid4().hex, notice["phone"], notice["email"], notice["subject"],
                                   notice["text"], utcnow() + domain.NOTICE_VALIDITY)
        self.sender.wake.set()
        return {"status": "queued"}

    @rpc
    def list_inbox(self, params=None):
        principal = self.caller.require()
        query = load(InboxQuery(), params or {})
        with self.db.transaction() as session:
            return domain.inbox(session, principal.member_id, **query)

    @rpc
    def mark_read(self, notification_id=None):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return domain.mark_read(session, principal.member_id,
                                    int(notification_id) if notification_id is not None else None)

    @rpc
    def get_preferences(self):
        principal = self.caller.require()
        with self.db.transaction() as session:
            return domain.preferences(session, principal.member_id)

    @rpc
    def set_preferences(self, body):
        principal = self.caller.require()
        data = load(PreferencesUpdate(), body)
        with self.db.transaction() as session:
            return domain.set_preferences(session, principal.member_id, data["items"], data["language"])

    @rpc
    def register_device(self, body):
        principal = self.caller.require()
        data = load(DeviceRegistration(), body)
        with self.db.transaction() as session:
            return domain.register_device(session, principal.member_id, data["platform"], data["token"])

    def _handle(self, envelope, effect):
        self.db.once(envelope, effect)
        self.sender.wake.set()   # whatever it queued goes out now

    @subscribe("members", "members.member_created")
    def on_member_created(self, envelope):
        self._handle(envelope, domain.project_member)

    @subscribe("members", "members.member_updated")
    def on_member_updated(self, envelope):
        self._handle(envelope, domain.project_member)

    @subscribe("members", "members.members_imported")
    def on_members_imported(self, envelope):
        reread_members(self.db, self.cluster.members, envelope, domain.project_member)

    @subscribe("identity", "identity.account_activated")
    def on_account_activated(self, envelope):
        def effect(session, payload):
            if domain.mark_activated(session, payload["member_id"]) is not None:
                domain.notify_member(session, envelope["id"], payload["member_id"], "account_activated")
        self._handle(envelope, effect)

    @subscribe("members", "members.change_request_decided")
    def on_change_request_decided(self, envelope):
        def effect(session, payload):
            kind = f"change_request_{payload['decision']}"
            domain.notify_member(session, envelope["id"], payload["member_id"], kind, reason=payload.get("reason") or "")
        self._handle(envelope, effect)

    @subscribe("members", "members.transfer_issued")
    def on_transfer_issued(self, envelope):
        self._handle(envelope, lambda session, payload: domain.notify_member(
            session, envelope["id"], payload["member_id"], "transfer_issued"))

    @subscribe("members", "members.member_transferred")
    def on_member_transferred(self, envelope):
        self._handle(envelope, lambda session, payload: domain.notify_member(
            session, envelope["id"], payload["member_id"], "member_transferred"))

    @subscribe("members", "members.org_rollout_changed")
    def on_rollout_changed(self, envelope):
        def effect(session, payload):
            domain.set_rollout(session, payload["organization_id"], payload["organization_path"], payload["state"])
            if payload["state"] == "live":
                items, messages = domain.invite_subtree(session, payload["organization_path"])
                log.info("rollout: %d inbox items, %d invitations queued", items, messages)
        self._handle(envelope, effect)
