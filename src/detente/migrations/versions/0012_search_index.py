"""Full-text search over every record type's text fields (``detente.store.search``).

- ``search_documents``: one row per record, its title's and other text fields' words
  (folded by detente, so both stores index the same words) and its marking columns;
- SQLite: ``search_fts``, an FTS5 table over those documents (external content, kept in
  step by three triggers);
- PostgreSQL: ``tsv``, a tsvector generated from the title (weight A) and the rest (B),
  under a GIN index; row-level security as on the record tables, from the marking
  columns the store copies (a document whose record belonged to no organisation yet
  stays reachable: the record's own table decides who finds it);
- the records already there are indexed.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ARGS = "mk_national, mk_nato, mk_rel, mk_tlp, mk_recipients, mk_public, owner_org_id"
TSV = (
    "setweight(to_tsvector('simple'::regconfig, title), 'A') "
    "|| setweight(to_tsvector('simple'::regconfig, body), 'B')"
)

FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
)
_ADD = "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);"
_DROP = (
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);"
)
TRIGGERS = (
    f"CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN {_ADD} END",
    f"CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN {_DROP} END",
    f"CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN {_DROP} {_ADD} END",
)


def _policies() -> None:
    seen = f"(detente_visible({ARGS}) OR owner_org_id IS NULL)"
    owned = "(detente_owns(owner_org_id) OR owner_org_id IS NULL)"
    op.execute("ALTER TABLE search_documents ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE search_documents FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY detente_read ON search_documents FOR SELECT USING {seen}")
    op.execute(f"CREATE POLICY detente_insert ON search_documents FOR INSERT WITH CHECK {owned}")
    op.execute(
        f"CREATE POLICY detente_update ON search_documents FOR UPDATE USING ({seen} AND {owned}) "
        "WITH CHECK (detente_owns(owner_org_id))"
    )
    op.execute(f"CREATE POLICY detente_delete ON search_documents FOR DELETE USING ({seen} AND {owned})")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    tsv = (
        sa.Column("tsv", postgresql.TSVECTOR(), sa.Computed(TSV, persisted=True), nullable=True)
        if postgres
        else sa.Column("tsv", sa.Text(), nullable=True)
    )
    op.create_table(
        "search_documents",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        tsv,
        sa.Column("mk_national", sa.Integer(), nullable=False),
        sa.Column("mk_nato", sa.Integer(), nullable=False),
        sa.Column("mk_rel", sa.String(length=1000), nullable=False),
        sa.Column("mk_tlp", sa.String(length=20), nullable=False),
        sa.Column("mk_recipients", sa.String(length=1000), nullable=False),
        sa.Column("mk_public", sa.Boolean(), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
    )
    op.create_index("ix_search_documents_record_id", "search_documents", ["record_id"], unique=True)
    if postgres:
        op.create_index("ix_search_documents_tsv", "search_documents", ["tsv"], postgresql_using="gin")
        _policies()
    else:
        op.create_index(
            "ix_search_documents_tsv", "search_documents", ["tsv"], sqlite_where=sa.text("tsv IS NOT NULL")
        )
        op.execute(FTS)
        for trigger in TRIGGERS:
            op.execute(trigger)

    from detente.store.search import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for policy in ("read", "insert", "update", "delete"):
            op.execute(f"DROP POLICY IF EXISTS detente_{policy} ON search_documents")
    else:
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_documents_{trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index("ix_search_documents_tsv", table_name="search_documents")
    op.drop_index("ix_search_documents_record_id", table_name="search_documents")
    op.drop_table("search_documents")
