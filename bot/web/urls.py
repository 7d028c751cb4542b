"""Every public URL of the web process, built in one place that the routes also use.

Route patterns (for aiohttp's router) and the absolute links that go into emails, invites and
chat replies come from the same constants, so a link can't point at a route that moved.
Importing this module needs no web framework: booking and nurture build links with it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

# url-safe tokens (invite, unsubscribe, feed): what the routes accept
TOKEN = "[A-Za-z0-9_-]{1,128}"

INBOX = "/inbox"
INBOX_LEAD = "/inbox/leads/{conversation_id}"
INBOX_LEADS_JSON = "/inbox/leads.json"
INBOX_LEADS_CSV = "/inbox/leads.csv"
REP_FEED = "/reps/{token}.ics"
INVITE = "/invite/{token}.ics"
UNSUBSCRIBE = "/unsubscribe/{token}"
PRIVACY = "/privacy"


def route(path: str, **patterns: str) -> str:
    """`path` as an aiohttp route, each `{name}` restricted to its regular expression."""
    for name, pattern in patterns.items():
        path = path.replace("{" + name + "}", "{" + name + ":" + pattern + "}")
    return path


def path(template: str, **values: str) -> str:
    """`template` with each `{name}` replaced by its URL-quoted value."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return template


@dataclass(frozen=True)
class PublicUrls:
    """Absolute links under PUBLIC_BASE_URL, for messages that leave the web process."""

    base_url: str

    def absolute(self, relative: str) -> str:
        return self.base_url.rstrip("/") + relative

    def invite(self, token: str) -> str:
        return self.absolute(path(INVITE, token=token))

    def unsubscribe(self, token: str) -> str:
        return self.absolute(path(UNSUBSCRIBE, token=token))

    def rep_feed(self, token: str) -> str:
        return self.absolute(path(REP_FEED, token=token))

    def privacy(self) -> str:
        return self.absolute(PRIVACY)

    @property
    def site(self) -> str:
        return self.base_url.rstrip("/")
