"""the audit trail stays append-only, but an erasure may clear its personal fields (citizen ID, client address,
details) and nothing else

Revision ID: 0006_trail_erasure
Revises: 0005_directory
"""

from alembic import op

revision = "0006_trail_erasure"
down_revision = "0005_directory"
branch_labels = None
depends_on = None

# what an erasure leaves of an entry: the same entry, its personal fields cleared
CLEARED = (
    "NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome "
    "AND NEW.member_id IS NOT DISTINCT FROM OLD.member_id "
    "AND NEW.correlation_id IS NOT DISTINCT FROM OLD.correlation_id "
    "AND NEW.citizen_id IS NULL AND NEW.client_address IS NULL AND NEW.detail IS NULL"
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND {CLEARED} THEN RETURN NEW; END IF;
                RAISE EXCEPTION 'audit_events is append-only';
            END $$ LANGUAGE plpgsql""")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(f"""
            CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
            WHEN NOT ({CLEARED.replace("IS NOT DISTINCT FROM", "IS")})
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$ LANGUAGE plpgsql""")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("""
            CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
            BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""")
