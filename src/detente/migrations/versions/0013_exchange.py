"""Intelligence exchange (#14): its tables are added here by the exchange slice.

Revision ID: 0013
Revises: 0012
"""

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the exchange slice's tables come with its records."""


def downgrade() -> None:
    """Nothing to undo."""
