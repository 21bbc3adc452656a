"""Secure channels (#15): its tables are added here by the channels slice.

Revision ID: 0014
Revises: 0013
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet: the channels slice's tables come with its records."""


def downgrade() -> None:
    """Nothing to undo."""
