"""Intelligence exchange (#14): protected sources, release terms of intelligence-sharing
agreements, intelligence reports and their portions (marked records, under the row-level
security of every record on PostgreSQL, as 0008 writes it), the reports' link tables
(under 0006's rules: a link row is visible when its report and its target are), and the
tables the exchange service keeps for dissemination (releases, originator consents,
verification history), which it reaches only through a report the principal may see.

Revision ID: 0013
Revises: 0012
"""

import importlib

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Each table as the slice declares it in this revision (a later change gets its own migration).
RECORDS = ("intel_sources", "release_terms", "intel_reports", "report_portions")
LINKS = {  # link table: (owner column, owner table, member column, member table)
    "report_actors": ("report_id", "intel_reports", "actor_id", "actors"),
    "report_engagements": ("report_id", "intel_reports", "engagement_id", "engagements"),
    "report_corroborations": ("report_id", "intel_reports", "related_id", "intel_reports"),
    "report_contradictions": ("report_id", "intel_reports", "related_id", "intel_reports"),
}
PLAIN = ("report_releases", "release_consents", "report_verifications")


def upgrade() -> None:
    importlib.import_module("detente.exchange.tables")
    from detente.core.db import metadata

    base = importlib.import_module("detente.migrations.versions.0008_assessment")
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for name in (*RECORDS, *LINKS, *PLAIN):
        metadata.tables[name].create(bind)
    if postgres:
        for name in RECORDS:
            base._record_policies(name)
        for name, (column, owner, member_column, member) in LINKS.items():
            base._link_policies(name, column, owner, member_column, member)


def downgrade() -> None:
    for name in (*reversed(PLAIN), *reversed(LINKS), *reversed(RECORDS)):
        op.drop_table(name)
