"""Vetting decisions: a marked registry record about one actor or person, with the
officer's checklist, the outcome, its validity and the screening it rested on; under the
same row-level security as the other registry tables (0004) on PostgreSQL.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "vetting_decisions"
ARGS = "mk_national, mk_nato, mk_rel, mk_tlp, mk_recipients, mk_public, owner_org_id"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("subject_name", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("officer", sa.String(length=200), nullable=True),
        sa.Column("screened_lists", sa.Text(), nullable=True),
        sa.Column("screening", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("marking", sa.String(length=500), nullable=False),
        sa.Column("owner_org_id", sa.String(length=36), nullable=True),
        sa.Column("mk_national", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("mk_nato", sa.Integer(), nullable=False, server_default="-1"),
        sa.Column("mk_rel", sa.String(length=1000), nullable=False, server_default="|"),
        sa.Column("mk_tlp", sa.String(length=20), nullable=False, server_default=""),
        sa.Column("mk_recipients", sa.String(length=1000), nullable=False, server_default="|"),
        sa.Column("mk_public", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_vetting_decisions_actor_id_actors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_vetting_decisions_person_id_people"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organisations.id"],
            name="fk_vetting_decisions_owner_org_id_organisations",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vetting_decisions")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for column in ("actor_id", "person_id", "subject_name", "outcome", "decided_on", "valid_until"):
            batch_op.create_index(batch_op.f(f"ix_{TABLE}_{column}"), [column], unique=False)
        batch_op.create_index(f"ix_{TABLE}_external_id", ["external_id"], unique=False)
        batch_op.create_index(f"ix_{TABLE}_owner_org_id", ["owner_org_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY detente_read ON {TABLE} FOR SELECT USING (detente_visible({ARGS}))")
        op.execute(
            f"CREATE POLICY detente_insert ON {TABLE} FOR INSERT WITH CHECK (detente_owns(owner_org_id))"
        )
        op.execute(
            f"CREATE POLICY detente_update ON {TABLE} FOR UPDATE "
            f"USING (detente_visible({ARGS}) AND detente_owns(owner_org_id)) "
            f"WITH CHECK (detente_owns(owner_org_id))"
        )
        op.execute(
            f"CREATE POLICY detente_delete ON {TABLE} FOR DELETE "
            f"USING (detente_visible({ARGS}) AND detente_owns(owner_org_id))"
        )


def downgrade() -> None:
    op.drop_table(TABLE)
