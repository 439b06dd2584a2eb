"""identity's projection of members becomes the library's directory (shared/directory.py)

Data is kept, not re-read: member_directory and positions are renamed, rollouts become organisations (with every
organisation a member or a position sits in), and a membership says whether the member is in the party.

Revision ID: 0005_directory
Revises: 0004_ended_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_directory"
down_revision = "0004_ended_sessions"
branch_labels = None
depends_on = None

LEVELS = ("central", "provincial", "grassroots", "branch", "party_group")  # by depth, as of this revision


def _level(path):
    depth = len([part for part in path.strip("/").split("/") if part])
    return LEVELS[depth - 1] if 0 < depth <= len(LEVELS) else None


def upgrade():
    organizations = op.create_table(
        "directory_organizations",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("rollout", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_directory_organizations_path", "directory_organizations", ["path"], unique=False)
    op.create_table(
        "directory_erased",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )
    bind = op.get_bind()
    known = {}
    for table in ("member_directory", "positions"):
        for organization_id, path in bind.execute(
            sa.text(f"SELECT DISTINCT organization_id, organization_path FROM {table}")
        ):
            known[organization_id] = (path, "disabled")
    for organization_id, path, state in bind.execute(
        sa.text("SELECT organization_id, organization_path, state FROM rollouts")
    ):
        known[organization_id] = (path, state)
    if known:
        op.bulk_insert(
            organizations,
            [
                {"id": organization_id, "path": path, "level": _level(path), "rollout": state}
                for organization_id, (path, state) in known.items()
            ],
        )
    op.drop_index("ix_rollouts_organization_path", table_name="rollouts")
    op.drop_table("rollouts")

    op.rename_table("member_directory", "directory_members")
    with op.batch_alter_table("directory_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_party", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("activated", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_column("updated_at")
        batch_op.create_index("ix_directory_members_path", ["organization_path"], unique=False)
    op.execute("UPDATE directory_members SET in_party = (status IN ('probationary', 'official'))")
    with op.batch_alter_table("directory_members", schema=None) as batch_op:
        batch_op.alter_column("in_party", server_default=None)
        batch_op.alter_column("activated", server_default=None)

    op.rename_table("positions", "directory_positions")
    op.create_index(
        "ix_directory_positions_organization_path", "directory_positions", ["organization_path"], unique=False
    )


def downgrade():
    op.drop_index("ix_directory_positions_organization_path", table_name="directory_positions")
    op.rename_table("directory_positions", "positions")
    with op.batch_alter_table("directory_members", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_members_path")
        batch_op.add_column(
            sa.Column(
                "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")
            )
        )
        batch_op.drop_column("activated")
        batch_op.drop_column("in_party")
    op.rename_table("directory_members", "member_directory")
    rollouts = op.create_table(
        "rollouts",
        sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("organization_path", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    op.create_index("ix_rollouts_organization_path", "rollouts", ["organization_path"], unique=False)
    rows = (
        op.get_bind()
        .execute(sa.text("SELECT id, path, rollout FROM directory_organizations WHERE rollout != 'disabled'"))
        .all()
    )
    if rows:
        op.bulk_insert(rollouts, [{"organization_id": i, "organization_path": p, "state": s} for i, p, s in rows])
    op.drop_table("directory_erased")
    op.drop_index("ix_directory_organizations_path", table_name="directory_organizations")
    op.drop_table("directory_organizations")
