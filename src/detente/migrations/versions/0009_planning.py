"""Planning: the people taking part in an engagement (a link table), its amphibious or
airborne troops and when it was notified and calendared (Vienna Document), and the host
nation's consent; partners'
calendars (holidays, elections) as marked records. Row-level security on PostgreSQL as
in 0004 (records) and 0006 (links).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    import importlib

    base = importlib.import_module("detente.migrations.versions.0008_assessment")
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("engagements") as batch:
        batch.add_column(sa.Column("amphibious_airborne_troops", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("host_consent_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("host_consent_reference", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("vd_notified_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("vd_calendar_on", sa.Date(), nullable=True))
    op.create_table(
        "engagement_people",
        sa.Column(
            "engagement_id",
            sa.String(length=36),
            sa.ForeignKey("engagements.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.String(length=36), sa.ForeignKey("people.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("engagement_id", "person_id", name="pk_engagement_people"),
    )
    op.create_index("ix_engagement_people_person_id", "engagement_people", ["person_id"], unique=False)
    table = "calendar_entries"
    op.create_table(
        table,
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        *base._bookkeeping(),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    )
    for column in ("country", "title", "kind", "start_date", "external_id", "owner_org_id"):
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
    if postgres:
        base._record_policies(table)
        base._link_policies("engagement_people", "engagement_id", "engagements", "person_id", "people")


def downgrade() -> None:
    op.drop_table("calendar_entries")
    op.drop_table("engagement_people")
    with op.batch_alter_table("engagements") as batch:
        batch.drop_column("vd_calendar_on")
        batch.drop_column("vd_notified_on")
        batch.drop_column("host_consent_reference")
        batch.drop_column("host_consent_on")
        batch.drop_column("amphibious_airborne_troops")
