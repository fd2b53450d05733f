"""Calendar sources: CalDAV servers (``CalDavConnector``) and local folders of .ics files (``IcsFolderConnector``)."""

from agent.connectors.caldav.connector import CalDavConnector
from agent.connectors.caldav.folder import IcsFolderConnector

__all__ = ["CalDavConnector", "IcsFolderConnector"]
