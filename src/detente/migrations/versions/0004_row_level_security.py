"""PostgreSQL row-level security on registry tables: the second line of enforcement.

The first line is the service layer (``detente.store.access.visible`` in every
query). This migration makes PostgreSQL apply the same rule itself, from the
principal the application sets on the connection for each transaction
(``detente.store.access.bind_principal``), so a query that forgot the filter,
or a report tool connected with the same role, still sees only releasable rows:

- ``detente.user``, ``detente.org``: the principal's user name and organisation id;
- ``detente.tokens``: its country and coalitions joined by ``|`` (what REL TO may name);
- ``detente.clear_national``, ``detente.clear_nato``: clearance level indexes (-1: none);
- ``detente.system = on``: maintenance (migrations, adopting records), sees all rows.

With no principal and no system flag a connection sees no registry row at all.
Writes must also leave a row owned by the principal's organisation. FORCE makes
the rules bind the tables' owner too; PostgreSQL superusers always bypass RLS, so
production connects as an ordinary role (see the README).

SQLite has no row-level security: there the service layer is the only line.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REGISTRY = ("actors", "people", "agreements", "engagements", "commitments")

# Kept in step with detente.store.access.visible and detente.core.markings.may_read;
# tests/sharing/test_enforcement.py checks the three agree on random data.
# A plain SQL function with one expression, so the planner inlines it into queries.
VISIBLE = r"""
CREATE OR REPLACE FUNCTION detente_visible(
    mk_national integer, mk_nato integer, mk_rel text, mk_tlp text,
    mk_recipients text, mk_public boolean, owner_org_id text
) RETURNS boolean LANGUAGE sql STABLE AS $$
SELECT CASE
  WHEN coalesce(current_setting('detente.system', true), '') = 'on' THEN true
  WHEN coalesce(current_setting('detente.user', true), '') = '' THEN false
  ELSE
    mk_national <= coalesce(nullif(current_setting('detente.clear_national', true), '')::integer, -1)
    AND mk_nato <= coalesce(nullif(current_setting('detente.clear_nato', true), '')::integer, -1)
    AND CASE
      WHEN mk_tlp = 'RED' THEN
        owner_org_id IS NOT DISTINCT FROM current_setting('detente.org', true)
        OR strpos(mk_recipients, '|' || upper(current_setting('detente.user', true)) || '|') > 0
      ELSE
        owner_org_id IS NOT DISTINCT FROM current_setting('detente.org', true)
        OR mk_public
        OR mk_rel ~ ('\|(' || coalesce(nullif(current_setting('detente.tokens', true), ''), '-') || ')\|')
    END
END
$$
"""

OWNS = """
CREATE OR REPLACE FUNCTION detente_owns(owner_org_id text) RETURNS boolean LANGUAGE sql STABLE AS $$
SELECT coalesce(current_setting('detente.system', true), '') = 'on'
    OR owner_org_id IS NOT DISTINCT FROM nullif(current_setting('detente.org', true), '')
$$
"""

ARGS = "mk_national, mk_nato, mk_rel, mk_tlp, mk_recipients, mk_public, owner_org_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(VISIBLE)
    op.execute(OWNS)
    for table in REGISTRY:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY detente_read ON {table} FOR SELECT USING (detente_visible({ARGS}))")
        op.execute(
            f"CREATE POLICY detente_insert ON {table} FOR INSERT WITH CHECK (detente_owns(owner_org_id))"
        )
        op.execute(
            f"CREATE POLICY detente_update ON {table} FOR UPDATE "
            f"USING (detente_visible({ARGS}) AND detente_owns(owner_org_id)) "
            f"WITH CHECK (detente_owns(owner_org_id))"
        )
        op.execute(
            f"CREATE POLICY detente_delete ON {table} FOR DELETE "
            f"USING (detente_visible({ARGS}) AND detente_owns(owner_org_id))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in REGISTRY:
        for policy in ("read", "insert", "update", "delete"):
            op.execute(f"DROP POLICY IF EXISTS detente_{policy} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS detente_visible(integer, integer, text, text, text, boolean, text)")
    op.execute("DROP FUNCTION IF EXISTS detente_owns(text)")
