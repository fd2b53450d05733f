"""On-premises Exchange through EWS with exchangelib (``kind = "ews"``): SyncFolderItems listing, GetItem fetching."""

from __future__ import annotations


def __getattr__(name: str):
    if name == "EwsConnector":  # lazy: exchangelib is heavy to import
        from agent.connectors.ews.connector import EwsConnector

        return EwsConnector
    raise AttributeError(name)
