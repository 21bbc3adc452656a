"""Sharing: organisations, users, API tokens, coalitions, the audit log, and record ownership
and markings taken apart for enforcement inside queries.

Existing records keep their marking text; its parts are filled in from it. Records
created before organisations existed have no owner yet: the first organisation
created in the workspace adopts them (see detente.sharing.service.bootstrap).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

REGISTRY = ("actors", "people", "agreements", "engagements", "commitments")


def upgrade() -> None:
    """Create the sharing tables, then give each registry table its owner and marking parts."""
    _create_audit_log()
    _create_coalitions()
    _create_organisations()
    _create_coalition_members()
    _create_users()
    _create_api_tokens()
    for table in REGISTRY:
        _own_and_take_apart_markings(table)
        _fill_marking_parts(table)


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_table", sa.String(length=60), nullable=True),
        sa.Column("record_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_record_id"), ["record_id"], unique=False)


def _create_coalitions() -> None:
    op.create_table(
        "coalitions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_coalitions")),
    )


def _create_organisations() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_country"), ["country"], unique=False)


def _create_coalition_members() -> None:
    op.create_table(
        "coalition_members",
        sa.Column("coalition", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["coalition"],
            ["coalitions.name"],
            name=op.f("fk_coalition_members_coalition_coalitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("coalition", "country", name=op.f("pk_coalition_members")),
    )
    with op.batch_alter_table("coalition_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coalition_members_country"), ["country"], unique=False)


def _create_users() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("clearances", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_users_org_id_organisations"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_org_id"), ["org_id"], unique=False)


def _create_api_tokens() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)


def _own_and_take_apart_markings(table: str) -> None:
    """A registry table gains its owner and its marking's parts (filled in by ``_fill_marking_parts``)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_org_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("mk_national", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("mk_nato", sa.Integer(), nullable=False, server_default="-1"))
        batch_op.add_column(sa.Column("mk_rel", sa.String(length=1000), nullable=False, server_default="|"))
        batch_op.add_column(sa.Column("mk_tlp", sa.String(length=20), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("mk_recipients", sa.String(length=1000), nullable=False, server_default="|")
        )
        batch_op.add_column(sa.Column("mk_public", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(f"uq_{table}_external_id", type_="unique")
        batch_op.create_index(f"ix_{table}_external_id", ["external_id"], unique=False)
        batch_op.create_index(f"ix_{table}_owner_org_id", ["owner_org_id"], unique=False)
        batch_op.create_foreign_key(
            f"fk_{table}_owner_org_id_organisations",
            "organisations",
            ["owner_org_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def _fill_marking_parts(table: str) -> None:
    """Take each stored banner apart; a banner that no longer parses is hidden from all."""
    from detente.core.markings import MarkingError, parse
    from detente.store.access import marking_columns

    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, marking FROM {table}")).all()
    for record_id, marking in rows:
        try:
            values = marking_columns(parse(marking))
        except MarkingError:
            values = {
                "mk_national": 99,
                "mk_nato": 99,
                "mk_rel": "|",
                "mk_tlp": "RED",
                "mk_recipients": "|",
                "mk_public": False,
            }
        conn.execute(
            sa.text(
                f"UPDATE {table} SET mk_national=:mk_national, mk_nato=:mk_nato, "
                "mk_rel=:mk_rel, mk_tlp=:mk_tlp, mk_recipients=:mk_recipients, "
                "mk_public=:mk_public WHERE id=:id"
            ),
            {**values, "id": record_id},
        )


def downgrade() -> None:
    """Remove the ownership and marking columns (the external id unique again), then the sharing tables."""
    for table in REGISTRY:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_owner_org_id_organisations", type_="foreignkey")
            batch_op.drop_index(f"ix_{table}_owner_org_id")
            batch_op.drop_index(f"ix_{table}_external_id")
            batch_op.create_unique_constraint(f"uq_{table}_external_id", ["external_id"])
            for column in (
                "mk_public",
                "mk_recipients",
                "mk_tlp",
                "mk_rel",
                "mk_nato",
                "mk_national",
                "owner_org_id",
            ):
                batch_op.drop_column(column)
    for table in ("api_tokens", "users", "coalition_members", "organisations", "coalitions", "audit_log"):
        op.drop_table(table)
