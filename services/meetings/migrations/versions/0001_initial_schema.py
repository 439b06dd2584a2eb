"""initial schema: the messaging tables

Revision ID: 0001
Revises:
Create Date: 2026-11-25 17:40:07
"""

from shared.migrations import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    create_messaging_tables()


def downgrade():
    drop_messaging_tables()
