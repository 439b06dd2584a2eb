"""notify: inboxes, channels and the delivery log (thin nameko entrypoints)."""

import logging
import threading
import time
import uuid
from datetime import timedelta

import eventlet
from nameko.extensions import DependencyProvider

from shared import config, metrics
from shared.contracts.notify import DeviceRegistration, InboxQuery, PreferencesUpdate, SecurityNotice, SmsRequest
from shared.db import Database, utcnow
from shared.kit import MEMBER, Service, command, member_through, query, services
from shared.projection import reread_members
from shared.rpc import Rpc
from shared.subscriber import subscribe
from services.notify import channels, domain, inbox, meeting_messages, privacy, publications
from services.notify.channels import DeliveryError
from services.notify.fan_out import FanOutWorker
from services.notify.models import Base, directory

log = logging.getLogger(__name__)


def _send(channel_map, delivery_id, channel, destination, subject, text):
    channel = channel.split(":", 1)[0]  # "push:<device id>" goes out through "push"
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

    STOP_GRACE = 4.0  # seconds: every service stops within 5

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
        self.first_retry = timedelta(
            seconds=float(config.get("SENDER_RETRY_SECONDS", domain.FIRST_RETRY.total_seconds()))
        )

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
                    eventlet.sleep(0)  # between batches, a waiting code (or any request) goes first
            except Exception as exc:
                log.error("sender pass failed with %s", type(exc).__name__)
            self.wake.wait(self.interval)
            self.wake.clear()

    def send_batch(self, limit=200):
        self.idle.clear()
        try:
            return send_batch(self._database(), self.channels, limit, self.lease, self.stopped.is_set, self.first_retry)
        finally:
            self.idle.set()


def send_batch(
    database, channel_map, limit=500, lease=domain.LEASE, stopping=lambda: False, first_retry=domain.FIRST_RETRY
):
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
                    domain.renew_lease(session, [row[0] for row in batch[len(outcomes) :]], lease)
                renewed = time.monotonic()
        with unit.transaction() as session:
            domain.release(session, [row[0] for row in batch[len(outcomes) :]])
            for row in domain.record_outcomes(session, outcomes, first_retry):
                metrics.DELIVERIES.labels(row.channel, "failed").inc()
                unit.publish("notify.delivery_failed", {"channel": row.channel, "reason": row.last_error})
        return len(outcomes)
    finally:
        unit.close()


def send_code(unit, sender, message):
    """A one-time code, in steps: stored under the caller's lease, handed to the channel at once (never queued
    behind a bulk send) outside any transaction, its outcome recorded; the sender retries it if need be."""
    expires_at = message["expires_at"] or utcnow() + domain.CODE_VALIDITY
    with unit.transaction() as session:
        delivery_id = domain.code_delivery(
            session, uuid.uuid4().hex, message["to"], message["text"], expires_at, sender.lease
        ).id
    error = _send(sender.channels, delivery_id, "sms", message["to"], None, message["text"])
    with unit.transaction() as session:
        domain.record_outcomes(session, [(delivery_id, error)], sender.first_retry)
    if error:
        sender.wake.set()
    return {"status": "sent" if error is None else "queued"}


class NotifyService(Service):
    name = "notify"

    db = Database(Base.metadata)
    sender = Sender()
    fan_out = FanOutWorker()
    cluster = Rpc(timeout=30)

    @command(caller=services("identity"), body=SmsRequest, in_steps=True)
    def send_otp(self, unit, principal, data):
        return send_code(unit, self.sender, data)

    @command(caller=services("identity"), body=SecurityNotice)
    def send_security_notice(self, unit, principal, data):
        """A phone change or a reset told to the phone and e-mail trusted before it (identity)."""
        domain.security_notice(
            unit,
            uuid.uuid4().hex,
            data["phone"],
            data["email"],
            data["subject"],
            data["text"],
            utcnow() + domain.NOTICE_VALIDITY,
        )
        unit.after_commit(self.sender.wake.set)
        return {"status": "queued"}

    @query(caller=MEMBER, params=InboxQuery)
    def list_inbox(self, session, principal, data=None):
        return inbox.inbox(session, principal.member_id, **data)

    @command(caller=MEMBER)
    def mark_read(self, unit, principal, notification_id=None):
        return inbox.mark_read(unit, principal.member_id, int(notification_id) if notification_id is not None else None)

    @query(caller=MEMBER)
    def get_preferences(self, session, principal):
        return domain.preferences(session, principal.member_id)

    @command(caller=MEMBER, body=PreferencesUpdate)
    def set_preferences(self, unit, principal, data):
        return domain.set_preferences(unit, principal.member_id, data["items"], data["language"])

    @query(caller=MEMBER)
    def push_key(self, session, principal):
        """What a browser subscribes to Web Push with; null where this deployment sends no Web Push."""
        return {"key": channels.vapid_public_key(config.get("VAPID_PRIVATE_KEY"))}

    @command(caller=MEMBER, body=DeviceRegistration)
    def register_device(self, unit, principal, data):
        return domain.register_device(unit, principal.member_id, data["platform"], data["token"])

    @query(caller=member_through("gateway"))
    def export_member(self, session, principal, member_id):
        return privacy.export(session, principal, member_id)

    @command(caller=member_through("members"))
    def erase_member(self, unit, principal, member_id, reason):
        """Ordered by members, which decided it (an administrator asked, with a reason): see privacy.py."""
        return privacy.erase(unit, principal, int(member_id), str(reason))

    def _handle(self, envelope, effect):
        self.db.once(envelope, effect)
        self.sender.wake.set()  # whatever it queued goes out now

    @subscribe("members", "members.member_created")
    def on_member_created(self, envelope):
        self._handle(envelope, domain.member_changed)

    @subscribe("members", "members.member_updated")
    def on_member_updated(self, envelope):
        self._handle(envelope, domain.member_changed)

    @subscribe("members", "members.members_imported")
    def on_members_imported(self, envelope):
        reread_members(self.db, self.cluster.members, envelope, domain.project_member)

    @subscribe("members", "members.member_erased")
    def on_member_erased(self, envelope):
        self.db.once(envelope, directory.member_erased)

    @subscribe("identity", "identity.account_activated")
    def on_account_activated(self, envelope):
        self._handle(envelope, domain.account_activated)

    @subscribe("members", "members.change_request_decided")
    def on_change_request_decided(self, envelope):
        self._handle(envelope, domain.tell_member)

    @subscribe("members", "members.transfer_issued")
    def on_transfer_issued(self, envelope):
        self._handle(envelope, domain.tell_member)

    @subscribe("members", "members.member_transferred")
    def on_member_transferred(self, envelope):
        self._handle(envelope, domain.tell_member)

    @subscribe("members", "members.org_rollout_changed")
    def on_rollout_changed(self, envelope):
        self._handle(envelope, domain.rollout_changed)

    @subscribe("content", "content.document_published")
    def on_document_published(self, envelope):
        self.db.once(envelope, publications.published)
        self.fan_out.wake.set()

    @subscribe("content", "content.document_withdrawn")
    def on_document_withdrawn(self, envelope):
        self.db.once(envelope, publications.withdrawn)
        self.fan_out.wake.set()  # what of its push is still queued is expired

    @subscribe("meetings", "meetings.meeting_scheduled")
    def on_meeting_scheduled(self, envelope):
        self._handle(envelope, meeting_messages.tell_invitees)

    @subscribe("meetings", "meetings.meeting_changed")
    def on_meeting_changed(self, envelope):
        self._handle(envelope, meeting_messages.tell_invitees)

    @subscribe("meetings", "meetings.meeting_cancelled")
    def on_meeting_cancelled(self, envelope):
        self._handle(envelope, meeting_messages.tell_invitees)

    @subscribe("meetings", "meetings.reminder_time_reached")
    def on_reminder_time_reached(self, envelope):
        self._handle(envelope, meeting_messages.tell_invitees)

    @subscribe("meetings", "meetings.minutes_published")
    def on_minutes_published(self, envelope):
        self._handle(envelope, meeting_messages.tell_invitees)

    @subscribe("meetings", "meetings.absences_flagged")
    def on_absences_flagged(self, envelope):
        self._handle(envelope, meeting_messages.tell_secretaries)

    @subscribe("members", "members.position_changed")
    def on_position_changed(self, envelope):
        """Who holds which position: whom a member's repeated absences are told to."""
        self.db.once(envelope, directory.position_changed)
