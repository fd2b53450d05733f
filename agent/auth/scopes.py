"""The least OAuth2 scopes each account needs, chosen from its kind, visibility and sign-in flow.

- Graph, a person signing in: ``Mail.ReadBasic`` when the account keeps only metadata or subjects (no body is ever
  readable with it), ``Mail.Read`` for snippets and full text (the body, or the MIME source, needs it), plus
  ``Calendars.Read`` when the calendar is synced.
- IMAP: ``IMAP.AccessAsUser.All`` on outlook.office.com (Microsoft's documented scope for XOAUTH2).
- EWS in Exchange Online: ``EWS.AccessAsUser.All``.
- The organisation's app (client credentials): ``<resource>/.default``, i.e. the application permissions an
  administrator granted (for Graph: Mail.ReadBasic.All or Mail.Read, and Calendars.Read).

msal adds ``offline_access`` (the refresh token) and ``openid profile`` by itself and refuses them in this list.
``oauth2.scopes`` in the config replaces the defaults (national clouds, Exchange hybrid modern auth).
"""

from __future__ import annotations

from agent.records import Visibility

GRAPH_RESOURCE = "https://graph.microsoft.com"
OUTLOOK_RESOURCE = "https://outlook.office365.com"
IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All"
EWS_SCOPE = "https://outlook.office365.com/EWS.AccessAsUser.All"
BASIC_VISIBILITY = (Visibility.METADATA, Visibility.SUBJECT)


def graph_mail_permission(visibility: Visibility) -> str:
    """The Graph mail permission a visibility level needs: no body is read below ``snippet``."""
    return "Mail.ReadBasic" if Visibility(visibility) in BASIC_VISIBILITY else "Mail.Read"


def default_scopes(account, oauth) -> list[str]:
    """The scopes to request for ``account`` (any kind) signing in with ``oauth`` (OAuthSettings)."""
    if oauth.scopes:
        return list(oauth.scopes)
    kind = account.kind
    if oauth.flow == "client_credentials":
        return [f"{GRAPH_RESOURCE if kind == 'm365' else OUTLOOK_RESOURCE}/.default"]
    if kind == "m365":
        scopes = [f"{GRAPH_RESOURCE}/{graph_mail_permission(account.visibility)}"]
        if getattr(account, "calendar", False):
            scopes.append(f"{GRAPH_RESOURCE}/Calendars.Read")
        return scopes
    if kind == "imap":
        return [IMAP_SCOPE]
    if kind == "ews":
        return [EWS_SCOPE]
    raise ValueError(f"no OAuth2 scopes known for account kind {kind!r}")
