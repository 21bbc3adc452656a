"""PostgreSQL row-level security on the link tables (engagement partners, agreement parties).

A link row is visible when both its record and its actor are: the policies ask
the registry tables, whose own policies (0004) then apply. A link may be written
(or removed) only by the organisation that owns its record, and only to an actor
the writer can see; links to actors hidden from the writer stay as they are.
Referential actions (ON DELETE CASCADE) are not subject to these policies.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LINKS = {  # link table: (owner column, owner table)
    "engagement_partners": ("engagement_id", "engagements"),
    "agreement_parties": ("agreement_id", "agreements"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, (column, owner) in LINKS.items():
        seen = (
            f"EXISTS (SELECT 1 FROM {owner} o WHERE o.id = {table}.{column}) "
            f"AND EXISTS (SELECT 1 FROM actors a WHERE a.id = {table}.actor_id)"
        )
        owned = (
            f"EXISTS (SELECT 1 FROM {owner} o WHERE o.id = {table}.{column} "
            f"AND detente_owns(o.owner_org_id)) "
            f"AND EXISTS (SELECT 1 FROM actors a WHERE a.id = {table}.actor_id)"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY detente_read ON {table} FOR SELECT USING ({seen})")
        op.execute(f"CREATE POLICY detente_insert ON {table} FOR INSERT WITH CHECK ({owned})")
        op.execute(f"CREATE POLICY detente_update ON {table} FOR UPDATE USING ({owned}) WITH CHECK ({owned})")
        op.execute(f"CREATE POLICY detente_delete ON {table} FOR DELETE USING ({owned})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in LINKS:
        for policy in ("read", "insert", "update", "delete"):
            op.execute(f"DROP POLICY IF EXISTS detente_{policy} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
