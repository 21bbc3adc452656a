"""Listing indexes: each hot listing's default order within its lifecycle status.

A page of engagements filtered by status and ordered by start date was read by sorting
every matching row; with (status, start_date, id) SQLite and PostgreSQL walk the index and
stop after offset + limit rows. Likewise commitments (status, due date), people
(accreditation status, start date) and agreements (signing date).

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_engagements_status_start": ("engagements", ["status", "start_date", "id"]),
    "ix_commitments_status_due": ("commitments", ["status", "due_on", "id"]),
    "ix_people_status_start": ("people", ["accreditation_status", "start_date", "id"]),
    "ix_agreements_signed": ("agreements", ["signed_on", "id"]),
}


def upgrade() -> None:
    """Add the four listing indexes."""
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Drop them."""
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
