"""ended sessions: refused access tokens until they expire

Revision ID: 0004_ended_sessions
Revises: 0003_recovery
Create Date: 2026-11-25 15:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_ended_sessions"
down_revision = "0003_recovery"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ended_sessions",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("ended_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ended_sessions_until"), ["until"], unique=False)


def downgrade():
    with op.batch_alter_table("ended_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ended_sessions_until"))

    op.drop_table("ended_sessions")
