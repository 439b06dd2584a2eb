"""notify's projection of members becomes the library's directory (shared/directory.py)

Data is kept, not re-read: recipients are renamed to directory_members and their organisation is read from their
path; live committees become organisations whose rollout is live. notify kept no status, only whether a member is in
the party: rows projected before this revision say `official` or `removed` accordingly (notify reads only
`in_party`), and the member's next snapshot brings the exact status.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LEVELS = ("central", "provincial", "grassroots", "branch", "party_group")  # by depth, as of this revision


def _ids(path):
    return [int(part) for part in path.strip("/").split("/") if part]


def _level(path):
    depth = len(_ids(path))
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
        "directory_positions",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("organization_path", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "organization_id", "role"),
    )
    op.create_index(
        "ix_directory_positions_organization_path", "directory_positions", ["organization_path"], unique=False
    )
    op.create_table(
        "directory_erased",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )
    bind = op.get_bind()
    known = {}
    for (path,) in bind.execute(sa.text("SELECT DISTINCT organization_path FROM recipients")):
        known[_ids(path)[-1]] = (path, "disabled")
    for organization_id, path in bind.execute(
        sa.text("SELECT organization_id, organization_path FROM live_committees")
    ):
        known[organization_id] = (path, "live")
    if known:
        op.bulk_insert(
            organizations,
            [
                {"id": organization_id, "path": path, "level": _level(path), "rollout": state}
                for organization_id, (path, state) in known.items()
            ],
        )
    op.drop_index("ix_live_committees_organization_path", table_name="live_committees")
    op.drop_table("live_committees")

    op.drop_index("ix_recipients_organization_path", table_name="recipients")
    op.rename_table("recipients", "directory_members")
    with op.batch_alter_table("directory_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organization_id", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="official"))
        batch_op.create_index("ix_directory_members_path", ["organization_path"], unique=False)
    members = sa.table(
        "directory_members", sa.column("organization_path", sa.String), sa.column("organization_id", sa.Integer)
    )
    for organization_id, (path, _) in known.items():  # one statement an organisation (the path index finds them)
        bind.execute(
            members.update().where(members.c.organization_path == path).values(organization_id=organization_id)
        )
    op.execute("UPDATE directory_members SET status = 'removed' WHERE NOT in_party")
    with op.batch_alter_table("directory_members", schema=None) as batch_op:
        for column in ("organization_id", "status"):
            batch_op.alter_column(column, server_default=None)


def downgrade():
    with op.batch_alter_table("directory_members", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_members_path")
        batch_op.drop_column("status")
        batch_op.drop_column("organization_id")
    op.rename_table("directory_members", "recipients")
    op.create_index("ix_recipients_organization_path", "recipients", ["organization_path"], unique=False)
    live = op.create_table(
        "live_committees",
        sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("organization_path", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    op.create_index("ix_live_committees_organization_path", "live_committees", ["organization_path"], unique=False)
    rows = op.get_bind().execute(sa.text("SELECT id, path FROM directory_organizations WHERE rollout = 'live'")).all()
    if rows:
        op.bulk_insert(live, [{"organization_id": i, "organization_path": p} for i, p in rows])
    op.drop_table("directory_erased")
    op.drop_index("ix_directory_positions_organization_path", table_name="directory_positions")
    op.drop_table("directory_positions")
    op.drop_index("ix_directory_organizations_path", table_name="directory_organizations")
    op.drop_table("directory_organizations")
