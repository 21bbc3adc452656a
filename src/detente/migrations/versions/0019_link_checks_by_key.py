"""Row-level security on the link tables checks each link's two records by their keys.

A link row (an engagement's partner, an agreement's party, a report's actor...) is
visible when both records it joins are, and writable by the owner of the first: the
policies of 0006, 0008 and 0013 ask ``EXISTS (SELECT 1 FROM <table> o WHERE o.id = ...)``,
and the records' own policies apply inside. PostgreSQL plans such an EXISTS as a hash of
every row of the other table that the reader may see, built afresh by each statement: a
page's partners (20 links) read all 2,200 engagements and checked each one's marking,
1.7 ms of the 2.3 ms the statement took on PostgreSQL, growing with the table. Here each
EXISTS becomes a scalar sub-select of the same condition, ``COALESCE((SELECT true FROM
<table> o WHERE o.id = ... LIMIT 1), false)``, which PostgreSQL cannot turn into a hash: it
looks each link's record up by its key, so a statement costs what it reads (the page's
partners: 0.45 ms). The rule does not change: the same records must be visible (or owned),
and tests/sharing checks the policies alone against it.

A policy keeps its name, command and everything around its EXISTS; its former definition
is kept in the policy's comment, which the downgrade restores. SQLite has no row-level
security: nothing to do there.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import json
import re

from alembic import op
from sqlalchemy import text

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TAG = "detente 0019: "
EXISTS = re.compile(r"EXISTS\s*\(\s*SELECT\s+1\s")


def _closing(expression: str, opening: int) -> int:
    """The index of the parenthesis that closes the one at ``opening`` (quoted text skipped)."""
    depth, i = 0, opening
    while i < len(expression):
        char = expression[i]
        if char == "'":
            i = expression.index("'", i + 1)
            while expression.startswith("''", i):  # a quote doubled inside the literal
                i = expression.index("'", i + 2)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise RuntimeError(f"unbalanced parentheses in a policy: {expression}")


def by_key(expression: str) -> str:
    """``expression`` with each ``EXISTS (SELECT 1 FROM ...)`` written as a scalar sub-select."""
    out, start = [], 0
    while found := EXISTS.search(expression, start):
        opening = expression.index("(", found.start())
        closing = _closing(expression, opening)
        inner = expression[found.end() : closing]
        out.append(
            f"{expression[start : found.start()]}COALESCE(( SELECT true {by_key(inner)} LIMIT 1), false)"
        )
        start = closing + 1
    return "".join(out) + expression[start:]


def _link_policies() -> list[tuple[str, str, str | None, str | None, str | None]]:
    """(table, policy, using, with check, comment) of this schema's policies."""
    rows = op.get_bind().execute(text("""
        SELECT tablename, policyname, qual, with_check,
               obj_description((SELECT p.oid FROM pg_policy p
                                WHERE p.polname = policyname
                                  AND p.polrelid = format('%I.%I', schemaname, tablename)::regclass),
                               'pg_policy')
        FROM pg_policies WHERE schemaname = current_schema() ORDER BY 1, 2
    """))  # fmt: skip
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _set(table: str, policy: str, using: str | None, check: str | None, comment: str | None) -> None:
    clauses = (f" USING ({using})" if using else "") + (f" WITH CHECK ({check})" if check else "")
    op.execute(f'ALTER POLICY "{policy}" ON "{table}"{clauses}')
    note = "NULL" if comment is None else "'" + comment.replace("'", "''") + "'"
    op.execute(f'COMMENT ON POLICY "{policy}" ON "{table}" IS {note}')


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, policy, using, check, comment in _link_policies():
        if not EXISTS.search(f"{using} {check}"):
            continue
        former = json.dumps({"using": using, "check": check, "comment": comment})
        _set(table, policy, using and by_key(using), check and by_key(check), TAG + former)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, policy, _, _, comment in _link_policies():
        if comment and comment.startswith(TAG):
            former = json.loads(comment.removeprefix(TAG))
            _set(table, policy, former["using"], former["check"], former["comment"])
