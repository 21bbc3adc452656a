"""The vetting tests drive the same CLI workspace as the lake's tests."""

from tests.sources.conftest import cli  # noqa: F401  (fixture, shared)
