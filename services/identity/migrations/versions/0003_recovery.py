"""recovery: trusted (imported) phones, e-mail, frozen accounts, "not me" codes, request limits per address

Revision ID: 0003_recovery
Revises: 0002
Create Date: 2026-11-25 15:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_recovery"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("member_directory", schema=None) as batch_op:
        batch_op.add_column(sa.Column("imported_phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=255), nullable=True))
    # what identity knew before this revision is taken as imported: it cannot tell otherwise
    op.execute("UPDATE member_directory SET imported_phone = phone")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("decoy", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(batch_op.f("ix_challenges_client_address"), ["client_address"], unique=False)
        batch_op.create_index(batch_op.f("ix_challenges_created_at"), ["created_at"], unique=False)

    op.create_table(
        "freeze_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("restore_phone", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    with op.batch_alter_table("freeze_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_freeze_codes_expires_at"), ["expires_at"], unique=False)


def downgrade():
    with op.batch_alter_table("freeze_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_freeze_codes_expires_at"))
    op.drop_table("freeze_codes")

    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_challenges_created_at"))
        batch_op.drop_index(batch_op.f("ix_challenges_client_address"))
        batch_op.drop_column("decoy")
        batch_op.drop_column("client_address")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("frozen_at")

    with op.batch_alter_table("member_directory", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("imported_phone")
