"""Registry: engagements, their partners, and commitments made in them.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create engagements, commitments and engagement partners, with their indexes."""
    _create_engagements()
    _create_commitments()
    _create_engagement_partners()


def _create_engagements() -> None:
    op.create_table(
        "engagements",
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("lead_actor_id", sa.String(length=36), nullable=False),
        sa.Column("agreement_id", sa.String(length=36), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("location_country", sa.String(length=3), nullable=True),
        sa.Column("location_place", sa.String(length=300), nullable=True),
        sa.Column("troops", sa.Integer(), nullable=True),
        sa.Column("tanks", sa.Integer(), nullable=True),
        sa.Column("armoured_combat_vehicles", sa.Integer(), nullable=True),
        sa.Column("artillery", sa.Integer(), nullable=True),
        sa.Column("aircraft_sorties", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("objectives", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("marking", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_engagements_agreement_id_agreements"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["lead_actor_id"],
            ["actors.id"],
            name=op.f("fk_engagements_lead_actor_id_actors"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
        sa.UniqueConstraint("external_id", name=op.f("uq_engagements_external_id")),
    )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_engagements_agreement_id"), ["agreement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagements_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_engagements_kind_start", ["kind", "start_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagements_lead_actor_id"), ["lead_actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_engagements_location_country"), ["location_country"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_engagements_start_date"), ["start_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagements_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagements_title"), ["title"], unique=False)


def _create_commitments() -> None:
    op.create_table(
        "commitments",
        sa.Column("engagement_id", sa.String(length=36), nullable=False),
        sa.Column("committed_by_id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("marking", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["committed_by_id"],
            ["actors.id"],
            name=op.f("fk_commitments_committed_by_id_actors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_commitments_engagement_id_engagements"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitments")),
        sa.UniqueConstraint("external_id", name=op.f("uq_commitments_external_id")),
    )
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commitments_committed_by_id"), ["committed_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_engagement_id"), ["engagement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_commitments_status"), ["status"], unique=False)


def _create_engagement_partners() -> None:
    op.create_table(
        "engagement_partners",
        sa.Column("engagement_id", sa.String(length=36), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_engagement_partners_actor_id_actors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_engagement_partners_engagement_id_engagements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("engagement_id", "actor_id", name=op.f("pk_engagement_partners")),
    )
    with op.batch_alter_table("engagement_partners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_engagement_partners_actor_id"), ["actor_id"], unique=False)


def downgrade() -> None:
    """Drop what ``upgrade`` created, dependants first."""
    with op.batch_alter_table("engagement_partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_partners_actor_id"))
    op.drop_table("engagement_partners")
    with op.batch_alter_table("commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commitments_status"))
        batch_op.drop_index(batch_op.f("ix_commitments_engagement_id"))
        batch_op.drop_index(batch_op.f("ix_commitments_due_on"))
        batch_op.drop_index(batch_op.f("ix_commitments_committed_by_id"))
    op.drop_table("commitments")
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagements_title"))
        batch_op.drop_index(batch_op.f("ix_engagements_status"))
        batch_op.drop_index(batch_op.f("ix_engagements_start_date"))
        batch_op.drop_index(batch_op.f("ix_engagements_location_country"))
        batch_op.drop_index(batch_op.f("ix_engagements_lead_actor_id"))
        batch_op.drop_index("ix_engagements_kind_start")
        batch_op.drop_index(batch_op.f("ix_engagements_kind"))
        batch_op.drop_index(batch_op.f("ix_engagements_agreement_id"))
    op.drop_table("engagements")
