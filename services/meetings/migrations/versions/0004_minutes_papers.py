"""papers: an agenda item's with their titles, the minutes' with their files

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("agenda_items", "minutes"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("papers", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade():
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_column("papers")
    with op.batch_alter_table("minutes", schema=None) as batch_op:
        batch_op.drop_column("papers")
