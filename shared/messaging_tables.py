"""The outbox and processed-event tables every service adds to its own metadata."""

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table, Text


def outbox_table(metadata):
    # States: pending → sent; a row that failed to publish stays pending with
    # attempts/last_error set, so an operator sees what is stuck (shared.cli outbox).
    return Table(
        "outbox",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("id", String(36), nullable=False, unique=True),
        Column("type", String(120), nullable=False),
        Column("version", Integer, nullable=False, default=1),
        Column("payload", JSON, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("correlation_id", String(64)),
        Column("state", String(16), nullable=False, default="pending"),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text),
        Column("next_attempt_at", DateTime(timezone=True)),
        Column("sent_at", DateTime(timezone=True)),
        Index("ix_outbox_state_seq", "state", "seq"),
    )


def processed_event_table(metadata):
    return Table(
        "processed_events",
        metadata,
        Column("handler", String(160), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
