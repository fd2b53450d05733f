"""Fixtures for the Microsoft tests (servers built from Microsoft's protocol documentation; see fixtures.py)."""

from tests.microsoft.fixtures import graph_server, graph_session, identity_server  # noqa: F401
