"""Registry: actors, people (attachés), agreements and their parties.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create actors, agreements, their parties and people, with their indexes."""
    _create_actors()
    _create_agreements()
    _create_agreement_parties()
    _create_people()


def _create_actors() -> None:
    op.create_table(
        "actors",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=True),
        sa.Column("abbreviation", sa.String(length=60), nullable=True),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
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
            ["parent_id"],
            ["actors.id"],
            name=op.f("fk_actors_parent_id_actors"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actors")),
        sa.UniqueConstraint("external_id", name=op.f("uq_actors_external_id")),
    )
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actors_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_actors_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_actors_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_actors_parent_id"), ["parent_id"], unique=False)


def _create_agreements() -> None:
    op.create_table(
        "agreements",
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("in_force_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("activity_types", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("marking", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint("external_id", name=op.f("uq_agreements_external_id")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreements_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_title"), ["title"], unique=False)


def _create_agreement_parties() -> None:
    op.create_table(
        "agreement_parties",
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_agreement_parties_actor_id_actors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_parties_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "actor_id", name=op.f("pk_agreement_parties")),
    )
    with op.batch_alter_table("agreement_parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_parties_actor_id"), ["actor_id"], unique=False)


def _create_people() -> None:
    op.create_table(
        "people",
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("rank", sa.String(length=100), nullable=True),
        sa.Column("role", sa.String(length=60), nullable=False),
        sa.Column("sending_state", sa.String(length=3), nullable=False),
        sa.Column("receiving_state", sa.String(length=3), nullable=False),
        sa.Column("post", sa.String(length=300), nullable=True),
        sa.Column("organisation_id", sa.String(length=36), nullable=True),
        sa.Column("accreditation_status", sa.String(length=40), nullable=False),
        sa.Column("immunity_basis", sa.String(length=60), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
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
            ["organisation_id"],
            ["actors.id"],
            name=op.f("fk_people_organisation_id_actors"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("external_id", name=op.f("uq_people_external_id")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_receiving_state"), ["receiving_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_sending_state"), ["sending_state"], unique=False)


def downgrade() -> None:
    """Drop what ``upgrade`` created, dependants first."""
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_sending_state"))
        batch_op.drop_index(batch_op.f("ix_people_receiving_state"))
        batch_op.drop_index(batch_op.f("ix_people_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_people_name"))
    op.drop_table("people")
    with op.batch_alter_table("agreement_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_parties_actor_id"))
    op.drop_table("agreement_parties")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_title"))
        batch_op.drop_index(batch_op.f("ix_agreements_kind"))
    op.drop_table("agreements")
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actors_parent_id"))
        batch_op.drop_index(batch_op.f("ix_actors_name"))
        batch_op.drop_index(batch_op.f("ix_actors_kind"))
        batch_op.drop_index(batch_op.f("ix_actors_country"))
    op.drop_table("actors")
