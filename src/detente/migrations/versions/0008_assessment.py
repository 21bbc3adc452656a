"""Assessment, monitoring and evaluation: initiatives, objectives (with their logic model
and the engagements and agreements that serve them), indicators, observations,
evaluations and lessons learned. Marked registry records under the same row-level
security as the others (0004) on PostgreSQL; the link tables under the rules of 0006
(a link row is visible when its record and its target are).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ARGS = "mk_national, mk_nato, mk_rel, mk_tlp, mk_recipients, mk_public, owner_org_id"
Text, Short, Date = sa.Text(), sa.String(length=500), sa.Date()


def _ref(name: str, target: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.String(length=36), sa.ForeignKey(f"{target}.id", ondelete="RESTRICT"), nullable=nullable
    )


def _bookkeeping() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("marking", sa.String(length=500), nullable=False),
        sa.Column(
            "owner_org_id",
            sa.String(length=36),
            sa.ForeignKey("organisations.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column("mk_national", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("mk_nato", sa.Integer(), nullable=False, server_default="-1"),
        sa.Column("mk_rel", sa.String(length=1000), nullable=False, server_default="|"),
        sa.Column("mk_tlp", sa.String(length=20), nullable=False, server_default=""),
        sa.Column("mk_recipients", sa.String(length=1000), nullable=False, server_default="|"),
        sa.Column("mk_public", sa.Boolean(), nullable=False, server_default=sa.false()),
    ]


RECORDS: dict[str, tuple[list[sa.Column], tuple[str, ...]]] = {  # type: ignore[type-arg]
    # table: (own columns, indexed columns)
    "initiatives": (
        [
            sa.Column("title", Short, nullable=False),
            sa.Column("partner_country", sa.String(length=3), nullable=True),
            sa.Column("region", sa.String(length=300), nullable=True),
            _ref("lead_actor_id", "actors"),
            sa.Column("status", sa.String(length=40), nullable=False),
            sa.Column("start_date", Date, nullable=True),
            sa.Column("end_date", Date, nullable=True),
            sa.Column("description", Text, nullable=True),
            sa.Column("notes", Text, nullable=True),
        ],
        ("title", "partner_country", "lead_actor_id", "status", "start_date"),
    ),
    "objectives": (
        [
            _ref("initiative_id", "initiatives", nullable=False),
            sa.Column("title", Short, nullable=False),
            sa.Column("partner_country", sa.String(length=3), nullable=True),
            sa.Column("line_of_effort", sa.String(length=60), nullable=False),
            *(sa.Column(c, Text, nullable=True) for c in ("inputs", "activities", "outputs", "outcomes")),
            sa.Column("assumptions", Text, nullable=True),
            sa.Column("notes", Text, nullable=True),
        ],
        ("initiative_id", "title", "partner_country", "line_of_effort"),
    ),
    "indicators": (
        [
            _ref("objective_id", "objectives", nullable=False),
            sa.Column("name", Short, nullable=False),
            sa.Column("definition", Text, nullable=True),
            sa.Column("unit", sa.String(length=100), nullable=False),
            sa.Column("baseline_value", sa.Float(), nullable=False),
            sa.Column("baseline_date", Date, nullable=False),
            sa.Column("target_value", sa.Float(), nullable=False),
            sa.Column("target_date", Date, nullable=False),
            sa.Column("higher_is_better", sa.Boolean(), nullable=True),
            sa.Column("data_source", Text, nullable=True),
            sa.Column("frequency", sa.String(length=40), nullable=False),
            sa.Column("owner", sa.String(length=200), nullable=True),
            sa.Column("computed_from", sa.String(length=200), nullable=True),
            sa.Column("notes", Text, nullable=True),
        ],
        ("objective_id", "name"),
    ),
    "observations": (
        [
            _ref("indicator_id", "indicators", nullable=False),
            sa.Column("value", sa.Float(), nullable=False),
            sa.Column("observed_on", Date, nullable=False),
            sa.Column("source", Short, nullable=True),
            sa.Column("confidence", sa.String(length=40), nullable=False),
            sa.Column("notes", Text, nullable=True),
        ],
        ("indicator_id", "observed_on"),
    ),
    "evaluations": (
        [
            _ref("initiative_id", "initiatives", nullable=False),
            _ref("objective_id", "objectives"),
            sa.Column("title", Short, nullable=False),
            sa.Column("kind", sa.String(length=60), nullable=False),
            sa.Column("independence", sa.String(length=40), nullable=False),
            sa.Column("evaluator", sa.String(length=300), nullable=True),
            sa.Column("conducted_on", Date, nullable=False),
            sa.Column("questions", Text, nullable=True),
            sa.Column("findings", Text, nullable=True),
            sa.Column("rating", sa.String(length=40), nullable=True),
            sa.Column("notes", Text, nullable=True),
        ],
        ("initiative_id", "objective_id", "title", "kind", "conducted_on"),
    ),
    "lessons": (
        [
            sa.Column("title", Short, nullable=False),
            _ref("initiative_id", "initiatives"),
            _ref("evaluation_id", "evaluations"),
            sa.Column("observation", Text, nullable=False),
            sa.Column("recommendation", Text, nullable=True),
            sa.Column("status", sa.String(length=40), nullable=False),
            sa.Column("identified_on", Date, nullable=False),
            sa.Column("owner", sa.String(length=200), nullable=True),
            sa.Column("notes", Text, nullable=True),
        ],
        ("title", "initiative_id", "evaluation_id", "status", "identified_on"),
    ),
}
LINKS = {  # link table: (owner column, owner table, member column, member table)
    "objective_engagements": ("objective_id", "objectives", "engagement_id", "engagements"),
    "objective_agreements": ("objective_id", "objectives", "agreement_id", "agreements"),
    "lesson_engagements": ("lesson_id", "lessons", "engagement_id", "engagements"),
}


def _record_policies(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY detente_read ON {table} FOR SELECT USING (detente_visible({ARGS}))")
    op.execute(f"CREATE POLICY detente_insert ON {table} FOR INSERT WITH CHECK (detente_owns(owner_org_id))")
    op.execute(
        f"CREATE POLICY detente_update ON {table} FOR UPDATE "
        f"USING (detente_visible({ARGS}) AND detente_owns(owner_org_id)) "
        f"WITH CHECK (detente_owns(owner_org_id))"
    )
    op.execute(
        f"CREATE POLICY detente_delete ON {table} FOR DELETE "
        f"USING (detente_visible({ARGS}) AND detente_owns(owner_org_id))"
    )


def _link_policies(table: str, column: str, owner: str, member_column: str, member: str) -> None:
    target = f"EXISTS (SELECT 1 FROM {member} m WHERE m.id = {table}.{member_column})"
    seen = f"EXISTS (SELECT 1 FROM {owner} o WHERE o.id = {table}.{column}) AND {target}"
    owned = (
        f"EXISTS (SELECT 1 FROM {owner} o WHERE o.id = {table}.{column} "
        f"AND detente_owns(o.owner_org_id)) AND {target}"
    )
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY detente_read ON {table} FOR SELECT USING ({seen})")
    op.execute(f"CREATE POLICY detente_insert ON {table} FOR INSERT WITH CHECK ({owned})")
    op.execute(f"CREATE POLICY detente_update ON {table} FOR UPDATE USING ({owned}) WITH CHECK ({owned})")
    op.execute(f"CREATE POLICY detente_delete ON {table} FOR DELETE USING ({owned})")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, (columns, indexed) in RECORDS.items():
        op.create_table(table, *columns, *_bookkeeping(), sa.PrimaryKeyConstraint("id", name=f"pk_{table}"))
        for column in (*indexed, "external_id", "owner_org_id"):
            op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
        if postgres:
            _record_policies(table)
    for table, (column, owner, member_column, member) in LINKS.items():
        op.create_table(
            table,
            sa.Column(
                column, sa.String(length=36), sa.ForeignKey(f"{owner}.id", ondelete="CASCADE"), nullable=False
            ),
            sa.Column(
                member_column,
                sa.String(length=36),
                sa.ForeignKey(f"{member}.id", ondelete="RESTRICT"),
                nullable=False,
            ),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(column, member_column, name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_{member_column}", table, [member_column], unique=False)
        if postgres:
            _link_policies(table, column, owner, member_column, member)


def downgrade() -> None:
    for table in [*reversed(LINKS), *reversed(RECORDS)]:
        op.drop_table(table)
