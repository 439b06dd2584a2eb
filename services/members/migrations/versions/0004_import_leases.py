"""import jobs hold an owner lease while they run, so a job whose process died is marked failed

Revision ID: 0004_import_leases
Revises: 0003
Create Date: 2026-11-25 16:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_import_leases"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("upload", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_import_jobs_status_lease", ["status", "lease_expires_at"], unique=False)
    # a job left `running` before leases existed has no lease: the first sweep marks it failed


def downgrade():
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_import_jobs_status_lease")
        batch_op.drop_column("upload")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
