"""Administration scoped: the workspace's operator and dated coalition membership.

- ``organisations.runs_instance``: the organisation that runs the instance (the first
  one created); only its users may hold the new ``operator`` role, which alone adds
  organisations and changes coalitions. The earliest administrator of that organisation
  becomes its operator; every other administrator manages their own organisation only.
- ``coalition_members.joined_on`` / ``left_on``: membership is dated. Members of the
  coalitions detente ships (``detente/sharing/coalitions.yaml``) get their accession
  dates; other members keep no date (a member since before it was recorded).
- ``coalition_changes``: every change of membership, listed for every administrator.

Revision ID: 0011
Revises: 0010
"""

from datetime import date
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _shipped() -> dict[tuple[str, str], tuple[date, date | None]]:
    import detente.sharing

    data = yaml.safe_load((Path(detente.sharing.__file__).parent / "coalitions.yaml").read_text("utf-8"))
    out: dict[tuple[str, str], tuple[date, date | None]] = {}
    for name, spec in data.items():
        left = {c: day for day, countries in (spec.get("left") or {}).items() for c in countries}
        for day, countries in spec["members"].items():
            for country in countries:
                out[(name, country)] = (day, left.get(country))
    return out


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("runs_instance", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("coalition_members") as batch:
        batch.add_column(sa.Column("joined_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("left_on", sa.Date(), nullable=True))
    op.create_table(
        "coalition_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("coalition", sa.String(length=32), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coalition_changes")),
    )
    op.create_index("ix_coalition_changes_at", "coalition_changes", ["at"], unique=False)
    op.create_index("ix_coalition_changes_coalition", "coalition_changes", ["coalition"], unique=False)

    bind = op.get_bind()
    members = sa.table(
        "coalition_members",
        sa.column("coalition", sa.String),
        sa.column("country", sa.String),
        sa.column("joined_on", sa.Date),
        sa.column("left_on", sa.Date),
    )
    for (name, country), (joined, _left) in _shipped().items():
        # accession dates only: a departure is a change of access, left to the operator
        bind.execute(
            members.update()
            .where(members.c.coalition == name, members.c.country == country)
            .values(joined_on=joined)
        )
    orgs = sa.table(
        "organisations", sa.column("id", sa.String), sa.column("created_at"), sa.column("runs_instance")
    )
    first = bind.execute(sa.select(orgs.c.id).order_by(orgs.c.created_at, orgs.c.id).limit(1)).scalar()
    if first is not None:
        bind.execute(orgs.update().where(orgs.c.id == first).values(runs_instance=True))
        users = sa.table(
            "users",
            sa.column("id", sa.String),
            sa.column("org_id"),
            sa.column("role"),
            sa.column("created_at"),
        )
        admin = bind.execute(
            sa.select(users.c.id)
            .where(users.c.org_id == first, users.c.role == "administrator")
            .order_by(users.c.created_at, users.c.id)
            .limit(1)
        ).scalar()
        if admin is not None:
            bind.execute(users.update().where(users.c.id == admin).values(role="operator"))


def downgrade() -> None:
    op.execute("UPDATE users SET role = 'administrator' WHERE role = 'operator'")
    op.drop_index("ix_coalition_changes_coalition", table_name="coalition_changes")
    op.drop_index("ix_coalition_changes_at", table_name="coalition_changes")
    op.drop_table("coalition_changes")
    with op.batch_alter_table("coalition_members") as batch:
        batch.drop_column("left_on")
        batch.drop_column("joined_on")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("runs_instance")
