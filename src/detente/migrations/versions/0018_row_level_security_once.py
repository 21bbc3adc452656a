"""Row-level security reads the principal once per statement, not once per row.

The policies of 0004-0015 call ``detente_visible(...)``, a one-expression SQL function
the planner inlines; but inlined, it still calls ``current_setting`` six times on every
row it checks (the principal's user, organisation, clearances and REL TO tokens). A page
of engagements counts every row the reader may see: 682 rows took 0.36 ms, most of it
in those calls. Here each policy's call is replaced by the same rule with each setting
read in a scalar sub-select, ``(SELECT current_setting(...))``, which PostgreSQL runs
once per statement (an InitPlan) and hands to every row as a value: the page's
statement fell from 0.89 to 0.57 ms. The rule itself does not change; the function
stays (for report tools and ad-hoc queries) and is rewritten from the same template, so
the two cannot drift apart. tests/sharing/test_enforcement.py checks the policies alone
against ``detente.core.markings.may_read``.

A later migration that adds a table with markings should write its policies with
``rule(once=True)`` of this module, not with a call of the function.

A policy keeps its name, command and everything around the call; its former definition
is kept in the policy's comment, which the downgrade restores. SQLite has no row-level
security: nothing to do there.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import json
import re

from alembic import op
from sqlalchemy import text

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ARGS = ("mk_national", "mk_nato", "mk_rel", "mk_tlp", "mk_recipients", "mk_public", "owner_org_id")

# The rule of 0004's detente_visible (and of detente.store.access.visible), with {name}
# standing for the principal's setting ``detente.<name>``.
RULE = r"""CASE
  WHEN coalesce({system}, '') = 'on' THEN true
  WHEN coalesce({user}, '') = '' THEN false
  ELSE
    mk_national <= coalesce(nullif({clear_national}, '')::integer, -1)
    AND mk_nato <= coalesce(nullif({clear_nato}, '')::integer, -1)
    AND CASE
      WHEN mk_tlp = 'RED' THEN
        owner_org_id IS NOT DISTINCT FROM {org}
        OR strpos(mk_recipients, '|' || upper({user}) || '|') > 0
      ELSE
        owner_org_id IS NOT DISTINCT FROM {org}
        OR mk_public
        OR mk_rel ~ ('\|(' || coalesce(nullif({tokens}, ''), '-') || ')\|')
    END
END"""
SETTINGS = ("system", "user", "org", "clear_national", "clear_nato", "tokens")

# a call of detente_visible as PostgreSQL prints a stored policy: its arguments may be
# cast, "(mk_rel)::text", so one level of parentheses inside
CALL = re.compile(r"detente_visible\(((?:[^()]|\([^()]*\))*)\)")


def rule(*, once: bool) -> str:
    """The rule as SQL: each setting read where it is used (``once=False``: the function's
    body), or in a scalar sub-select that PostgreSQL evaluates once per statement."""
    read = "(SELECT current_setting('detente.{}', true))" if once else "current_setting('detente.{}', true)"
    return RULE.format(**{name: read.format(name) for name in SETTINGS})


FUNCTION = f"""
CREATE OR REPLACE FUNCTION detente_visible(
    mk_national integer, mk_nato integer, mk_rel text, mk_tlp text,
    mk_recipients text, mk_public boolean, owner_org_id text
) RETURNS boolean LANGUAGE sql STABLE AS $$
SELECT {rule(once=False)}
$$
"""


def _inline(expression: str, where: str) -> str:
    """``expression`` with each call of detente_visible on the row's own columns replaced by
    the rule, its settings read once."""

    def replace(call: re.Match[str]) -> str:
        args = tuple(re.sub(r"^\((\w+)\)::\w+$", r"\1", a.strip()) for a in call.group(1).split(","))
        if args != ARGS:  # a call on other columns: not written by detente's migrations
            raise RuntimeError(f"{where}: detente_visible called on {args}, expected {ARGS}")
        return f"({rule(once=True)})"

    return CALL.sub(replace, expression)


def _policies() -> list[tuple[str, str, str | None, str | None, str | None]]:
    """(table, policy, using, with check, comment) of the current schema's policies."""
    rows = op.get_bind().execute(text("""
        SELECT c.relname, p.polname, pg_get_expr(p.polqual, p.polrelid),
               pg_get_expr(p.polwithcheck, p.polrelid), obj_description(p.oid, 'pg_policy')
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
        WHERE c.relnamespace = current_schema()::text::regnamespace ORDER BY 1, 2
    """))  # fmt: skip
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _alter(table: str, policy: str, using: str | None, check: str | None) -> None:
    clauses = (f" USING ({using})" if using else "") + (f" WITH CHECK ({check})" if check else "")
    op.execute(f'ALTER POLICY "{policy}" ON "{table}"{clauses}')


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, policy, using, check, _ in _policies():
        if "detente_visible(" not in f"{using} {check}":
            continue
        where = f"policy {policy} on {table}"
        _alter(
            table,
            policy,
            using and _inline(using, where),
            check and _inline(check, where),
        )
        former = json.dumps({"using": using, "check": check}).replace("'", "''")
        op.execute(f'COMMENT ON POLICY "{policy}" ON "{table}" IS \'detente 0018: {former}\'')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, policy, _, _, comment in _policies():
        if not comment or not comment.startswith("detente 0018: "):
            continue
        former = json.loads(comment.removeprefix("detente 0018: "))
        _alter(table, policy, former["using"], former["check"])
        op.execute(f'COMMENT ON POLICY "{policy}" ON "{table}" IS NULL')
