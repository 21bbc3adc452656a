"""The audit chain is keyed (HMAC-SHA256) and its checkpoints signed (Ed25519).

- ``audit_log.key_id``: the id of the audit key an entry's hash was made with; NULL
  for entries written before this revision (plain SHA-256), which ``detente audit
  verify`` reports as such. The first keyed entry of an older log re-keys it
  (``detente.core.audit``). A plain ADD COLUMN, so the append-only triggers of 0005
  stay in place (a batch copy of the table on SQLite would drop them).
- ``audit_checkpoints``: signed statements "entry N had hash H at time T", append-only
  like the log (same trigger function on PostgreSQL, the same RAISE on SQLite).

Neither table holds record content (ids, field names, hashes and signatures), so,
like ``audit_log`` since 0003, they have no row-level security (0004/0007 are for
marked registry records); the service layer reads them for ``audit verify``.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MESSAGE = "the audit log is append-only"
TABLE = "audit_checkpoints"


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.create_table(
        TABLE,
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # detente_audit_append_only() is 0005's: it refuses whatever fires it
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION detente_audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION detente_audit_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{event.lower()} BEFORE {event} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{event}")
    op.drop_table(TABLE)
    # keyed entries cannot be checked by an older detente: it will call them altered
    op.drop_column("audit_log", "key_id")
