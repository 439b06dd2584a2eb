"""documents: a partial index of the published ones' ids, for the unread count

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 01:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PUBLISHED = sa.text("status = 'published'")


def upgrade():
    # PostgreSQL hash-joined a member's addressed documents with a scan of every document (bench/README.md)
    op.create_index("ix_documents_published", "documents", ["id"], postgresql_where=PUBLISHED, sqlite_where=PUBLISHED)


def downgrade():
    op.drop_index("ix_documents_published", table_name="documents")
