"""codes, throttle, sessions, vneid, projections

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 05:17:35.066796
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "challenges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("phone_on_record", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("member_path", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_challenges_citizen_id"), ["citizen_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_challenges_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "login_throttle",
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("citizen_id"),
    )
    op.create_table(
        "oidc_states",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state"),
    )
    op.create_table(
        "positions",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("organization_path", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "organization_id", "role"),
    )
    op.create_table(
        "rollouts",
        sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("organization_path", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    with op.batch_alter_table("rollouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rollouts_organization_path"), ["organization_path"], unique=False)

    op.create_table(
        "vneid_links",
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("citizen_id", sa.String(length=12), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "subject"),
    )
    with op.batch_alter_table("vneid_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vneid_links_citizen_id"), ["citizen_id"], unique=False)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activation_method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("verified_phone", sa.String(length=16), nullable=True))

    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("client_address")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("verified_phone")
        batch_op.drop_column("activation_method")

    with op.batch_alter_table("vneid_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vneid_links_citizen_id"))

    op.drop_table("vneid_links")
    with op.batch_alter_table("rollouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollouts_organization_path"))

    op.drop_table("rollouts")
    op.drop_table("positions")
    op.drop_table("oidc_states")
    op.drop_table("login_throttle")
    with op.batch_alter_table("challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_challenges_sent_at"))
        batch_op.drop_index(batch_op.f("ix_challenges_citizen_id"))

    op.drop_table("challenges")
