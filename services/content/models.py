"""content: its own tables, beside the outbox and processed events every service keeps.
After a change: python -m shared.cli revision content "<what changes>"."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from shared.messaging_tables import outbox_table, processed_event_table


class Base(DeclarativeBase):
    metadata = MetaData()


outbox = outbox_table(Base.metadata)
processed_events = processed_event_table(Base.metadata)
