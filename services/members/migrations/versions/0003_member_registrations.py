"""registrations waiting for a system administrator (POST /members outside the officer's subtree)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "member_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("member_registrations", schema=None) as batch_op:
        batch_op.create_index("ix_member_registrations_requester", ["requested_by", "requested_at"], unique=False)
        batch_op.create_index("ix_member_registrations_status", ["status", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("member_registrations", schema=None) as batch_op:
        batch_op.drop_index("ix_member_registrations_status")
        batch_op.drop_index("ix_member_registrations_requester")
    op.drop_table("member_registrations")
