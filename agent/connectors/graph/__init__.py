"""Microsoft 365 through Microsoft Graph (``kind = "m365"``): httpx client, delta listing, documents from fields."""

from __future__ import annotations


def __getattr__(name: str):
    if name == "GraphConnector":  # lazy: importing the documents builders must not pull in httpx
        from agent.connectors.graph.connector import GraphConnector

        return GraphConnector
    raise AttributeError(name)
