"""a member erased on request stays as a pseudonymous tombstone: when, so nothing republishes or edits them

Revision ID: 0005_erasure
Revises: 0004_import_leases
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_erasure"
down_revision = "0004_import_leases"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
