"""Fixtures for the Microsoft tests (servers built from Microsoft's protocol documentation; see fixtures.py)."""

from tests.microsoft.fixtures import (  # noqa: F401
    ews_server,
    ews_session,
    graph_server,
    graph_session,
    identity_server,
)
