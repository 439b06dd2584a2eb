"""opinions: when one was last pinned or unpinned (the meeting screen's activity moves with it)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 16:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("opinions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pin_changed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("opinions", schema=None) as batch_op:
        batch_op.drop_column("pin_changed_at")
