"""Secure channels (#15): published keys, conversations, messages (ciphertext and the
metadata the server needs), per-recipient copies, hotlines and their duty rosters,
urgent-message alerts, and the crisis log's incidents with their timelines.

Conversations, messages, hotlines and incidents are marked records: on PostgreSQL they
get the row-level security of every record (0004, as 0008 writes it). The tables the
service writes for recipients (copies, alerts) and the published keys have none: the
service reaches them only through a message the principal may see.

Revision ID: 0014
Revises: 0013
"""

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Each table as the slice declares it in this revision (a later change gets its own migration).
TABLES = (
    "channel_keys",
    "channel_conversations",
    "channel_members",
    "channel_messages",
    "channel_copies",
    "channel_hotlines",
    "channel_roster",
    "channel_alerts",
    "incidents",
    "channel_incident_entries",
)
MARKED = ("channel_conversations", "channel_messages", "channel_hotlines", "incidents")


def upgrade() -> None:
    importlib.import_module("detente.channels.tables")
    importlib.import_module("detente.channels.records")
    from detente.core.db import metadata

    bind = op.get_bind()
    for name in TABLES:
        table: sa.Table = metadata.tables[name]
        table.create(bind)
    if bind.dialect.name == "postgresql":
        base = importlib.import_module("detente.migrations.versions.0008_assessment")
        for name in MARKED:
            base._record_policies(name)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
