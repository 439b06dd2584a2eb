"""a delivery being sent carries a lease, so a dead sender's rows are taken again

Revision ID: 0003
Revises: 0002
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    # rows a crashed sender left in `sending` before leases existed: lapsed at once, sent again
    deliveries = sa.table(
        "deliveries", sa.column("status", sa.String), sa.column("lease_until", sa.DateTime(timezone=True))
    )
    op.execute(
        deliveries.update().where(deliveries.c.status == "sending").values(lease_until=datetime(2000, 1, 1, tzinfo=UTC))
    )


def downgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("lease_until")
