"""Lookup indexes: natural keys, and listing indexes that answer a page's count alone.

Natural-key indexes: every record type's natural key, looked up on each create, change
and import (``detente.store.records._index_natural_key`` declares the same).

Without them SQLite looked an engagement up by title and start date through the start-date
index alone, reading every engagement on that date (a bulk import of one day's events read
them all for each row). The columns stop at the first unbounded text (a commitment's
description, a portion's text): indexing those could exceed PostgreSQL's key size.

The listing indexes of 0016 end with the columns the access decision reads
(``detente.store.tables.ACCESS_COLUMNS``): the total beside a page (every record matching
the filter that the reader may see) is then counted from the index without reading the
rows (a page of engagements by status: 0.28 ms on SQLite before, 0.17 ms after).

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

INDEXES = {
    "actors": ["kind", "name", "country"],
    "people": ["name", "sending_state", "receiving_state", "role"],
    "agreements": ["kind", "title"],
    "engagements": ["title", "start_date"],
    "commitments": ["engagement_id", "committed_by_id"],
    "vetting_decisions": ["subject_name", "decided_on", "outcome"],
    "objectives": ["initiative_id", "title"],
    "indicators": ["objective_id", "name"],
    "observations": ["indicator_id", "observed_on", "source"],
    "evaluations": ["initiative_id", "title"],
    "calendar_entries": ["country", "title", "start_date"],
    "incidents": ["title", "opened_on"],
    "release_terms": ["agreement_id", "title"],
    "intel_reports": ["title", "report_time"],
}


ACCESS = ["mk_national", "mk_nato", "mk_tlp", "mk_public", "owner_org_id", "mk_rel", "mk_recipients"]
LISTINGS = {  # 0016's, as there
    "ix_engagements_status_start": ("engagements", ["status", "start_date", "id"]),
    "ix_commitments_status_due": ("commitments", ["status", "due_on", "id"]),
    "ix_people_status_start": ("people", ["accreditation_status", "start_date", "id"]),
    "ix_agreements_signed": ("agreements", ["signed_on", "id"]),
}


def upgrade() -> None:
    """Add one index per record table whose natural key no index covered; widen the
    listing indexes with the access columns."""
    for name, (table, columns) in LISTINGS.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [*columns, *ACCESS])
    for table, columns in INDEXES.items():
        # if_not_exists: a migration that makes its tables from the models (0013, 0014) made them
        op.create_index(f"ix_{table}_natural_key", table, columns, if_not_exists=True)


def downgrade() -> None:
    """Drop them, and give the listing indexes back their 0016 columns."""
    for name, (table, columns) in LISTINGS.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    for table in INDEXES:
        op.drop_index(f"ix_{table}_natural_key", table_name=table, if_exists=True)
