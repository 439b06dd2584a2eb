"""publications in inboxes by path, their push fan-out, meeting links; a delivery's destination holds a browser's
push subscription

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "publication_audiences",
        sa.Column("publication_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("organization_path", sa.String(length=255), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("publication_id", "organization_path"),
    )
    with op.batch_alter_table("publication_audiences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_publication_audiences_path", ["organization_path", "published_at", "publication_id"], unique=False
        )

    op.create_table(
        "publication_reads",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("publication_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "publication_id"),
    )
    with op.batch_alter_table("publication_reads", schema=None) as batch_op:
        batch_op.create_index("ix_publication_reads_publication", ["publication_id"], unique=False)

    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("study", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id"),
    )
    op.create_table(
        "push_fan_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ranges", sa.Text(), nullable=False),
        sa.Column("range_index", sa.Integer(), nullable=False),
        sa.Column("after_path", sa.String(length=255), nullable=True),
        sa.Column("after_member", sa.Integer(), nullable=True),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("push_fan_outs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_push_fan_outs_publication_id"), ["publication_id"], unique=False)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:  # a browser's push subscription is longer
        batch_op.alter_column("destination", existing_type=sa.String(length=255), type_=sa.Text(), nullable=False)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_notifications_member_time", ["member_id", "created_at", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("destination", existing_type=sa.Text(), type_=sa.String(length=255), nullable=False)

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_member_time")
        batch_op.drop_column("meeting_id")

    with op.batch_alter_table("push_fan_outs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_fan_outs_publication_id"))

    op.drop_table("push_fan_outs")
    op.drop_table("publications")
    with op.batch_alter_table("publication_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_reads_publication")

    op.drop_table("publication_reads")
    with op.batch_alter_table("publication_audiences", schema=None) as batch_op:
        batch_op.drop_index("ix_publication_audiences_path")

    op.drop_table("publication_audiences")
