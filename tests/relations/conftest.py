"""The relations tests drive the same CLI workspace and lake queries as the lake's tests."""

from tests.sources.conftest import cli, lake_sql  # noqa: F401  (fixtures, shared)
