"""IMAP connector package (imapclient for the session, raw UID FETCH for the hot path)."""

from agent.connectors.imap.connector import ImapConnector

__all__ = ["ImapConnector"]
