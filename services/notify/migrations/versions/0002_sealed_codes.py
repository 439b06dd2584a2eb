"""one-time codes sealed at rest and erased after use

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    # codes stored in clear before this revision: past their 5 minutes by now, erased
    op.execute(
        "UPDATE deliveries SET text = '', status = CASE WHEN status IN ('pending', 'sending') "
        "THEN 'expired' ELSE status END WHERE event_id LIKE 'otp:%'"
    )


def downgrade():
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("sealed")
