"""Federation over TAXII 2.1 (#14 point 6): STIX objects received from peers, the peers,
and the status resources of pushes (``detente.exchange.taxii.tables``). On PostgreSQL,
row-level security as on the record tables: a stored object is read through its
originator's marking (``detente_visible``), a peer and a status only by its organisation.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ARGS = "mk_national, mk_nato, mk_rel, mk_tlp, mk_recipients, mk_public, owner_org_id"


def _marking_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("marking", sa.String(500), nullable=False),
        sa.Column("owner_org_id", sa.String(36), sa.ForeignKey("organisations.id", ondelete="RESTRICT")),
        sa.Column("mk_national", sa.Integer(), nullable=False),
        sa.Column("mk_nato", sa.Integer(), nullable=False),
        sa.Column("mk_rel", sa.String(1000), nullable=False),
        sa.Column("mk_tlp", sa.String(20), nullable=False),
        sa.Column("mk_recipients", sa.String(1000), nullable=False),
        sa.Column("mk_public", sa.Boolean(), nullable=False),
    ]


def _owner() -> sa.Column:  # type: ignore[type-arg]
    org = sa.ForeignKey("organisations.id", ondelete="CASCADE")
    return sa.Column("owner_org_id", sa.String(36), org, nullable=False)


def upgrade() -> None:
    op.create_table(
        "exchange_objects",
        sa.Column("stix_id", sa.String(120), primary_key=True),
        sa.Column("type", sa.String(60), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_added", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        *_marking_columns(),
    )
    for column in ("type", "origin", "owner_org_id"):
        op.create_index(f"ix_exchange_objects_{column}", "exchange_objects", [column])
    op.create_index("ix_exchange_objects_added", "exchange_objects", ["date_added", "stix_id"])
    op.create_table(
        "exchange_peers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "owner_org_id",
            sa.String(36),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("username", sa.String(200)),
        sa.Column("secret", sa.String(500), nullable=False),
        sa.Column("partner_user", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_pull_at", sa.DateTime(timezone=True)),
        sa.Column("last_push_at", sa.DateTime(timezone=True)),
        sa.Column("cursor", sa.Text()),
        sa.Column("last_result", sa.Text()),
    )
    op.create_index("ix_exchange_peers_owner_org_id", "exchange_peers", ["owner_org_id"])
    op.create_table(
        "exchange_status",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "owner_org_id",
            sa.String(36),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_exchange_status_owner_org_id", "exchange_status", ["owner_org_id"])
    if op.get_bind().dialect.name == "postgresql":
        _policies()


def _policies() -> None:
    table = "exchange_objects"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY detente_read ON {table} FOR SELECT USING (detente_visible({ARGS}))")
    op.execute(f"CREATE POLICY detente_insert ON {table} FOR INSERT WITH CHECK (detente_owns(owner_org_id))")
    op.execute(
        f"CREATE POLICY detente_update ON {table} FOR UPDATE "
        f"USING (detente_visible({ARGS}) AND detente_owns(owner_org_id)) "
        "WITH CHECK (detente_owns(owner_org_id))"
    )
    for owned in ("exchange_peers", "exchange_status"):
        op.execute(f"ALTER TABLE {owned} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {owned} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY detente_own ON {owned} USING (detente_owns(owner_org_id)) "
            "WITH CHECK (detente_owns(owner_org_id))"
        )


def downgrade() -> None:
    for table in ("exchange_status", "exchange_peers", "exchange_objects"):
        op.drop_table(table)
