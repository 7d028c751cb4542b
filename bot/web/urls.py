"""Every URL of the web process, built in one place that the routes also use.

Route patterns (for aiohttp's router), the links on our pages, and the absolute links that go
into emails, invites and chat replies come from the same constants, so a link can't point at a
route that moved. Importing this module needs no web framework: booking and nurture build links
with it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import quote, urlencode

# url-safe tokens (invite, unsubscribe, feed): what the routes accept
TOKEN = "[A-Za-z0-9_-]{1,128}"
ASSET_NAME = r"[a-z0-9-]+\.[a-z]+"

HOME = "/"
PRICING = "/pricing"
PRIVACY = "/privacy"
ASSET = "/assets/{name}"
WIDGET_JS = "/widget.js"
HEALTH = "/health"
CHAT = "/webhooks/widget/webhook"
CHAT_STATUS = "/webhooks/widget/"  # the Rasa channel's own health answer
CHAT_SESSION = "/webhooks/widget/session"  # a new visitor session (bot/leads/sessions.py)

INBOX = "/inbox"
INBOX_LEAD = "/inbox/leads/{lead_id}"  # the opaque lead id, never the conversation id
INBOX_LEADS_JSON = "/inbox/leads.json"
INBOX_LEADS_CSV = "/inbox/leads.csv"
LOGIN = "/inbox/login"
LOGOUT = "/inbox/logout"
WELCOME = "/inbox/welcome/{token}"
INBOX_FUNNEL = "/inbox/funnel"  # the funnel charts for marketing (bot/web/routes/funnel.py)
INBOX_HANDOFFS = "/inbox/handoffs"
INBOX_HANDOFF = "/inbox/handoffs/{public_id}"
# The widget long-polls here for what a rep (or the bot, on its own) says (bot/web/handoff.py).
WIDGET_EVENTS = "/webhooks/widget/events"
REP_FEED = "/reps/{token}.ics"
INVITE = "/invite/{token}.ics"
UNSUBSCRIBE = "/unsubscribe/{token}"
MEETING = "/meetings/{token}"  # the visitor's signed link: cancel or pick a new time
MEETING_CANCEL = "/meetings/{token}/cancel"
MEETING_RESCHEDULE = "/meetings/{token}/reschedule"


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


def with_query(relative: str, query: Mapping[str, object]) -> str:
    """`relative` with the non-empty values of `query` as its query string."""
    kept = {name: str(value) for name, value in query.items() if value not in (None, "", False)}
    return relative + ("?" + urlencode(kept) if kept else "")


def inbox_lead(lead_id: str) -> str:
    return path(INBOX_LEAD, lead_id=lead_id)


def unsubscribe(token: str) -> str:
    return path(UNSUBSCRIBE, token=token)


def meeting(token: str) -> str:
    return path(MEETING, token=token)


def meeting_cancel(token: str) -> str:
    return path(MEETING_CANCEL, token=token)


def meeting_reschedule(token: str) -> str:
    return path(MEETING_RESCHEDULE, token=token)


@dataclass(frozen=True)
class PublicUrls:
    """Absolute links under PUBLIC_BASE_URL, for messages that leave the web process."""

    base_url: str

    def absolute(self, relative: str) -> str:
        return self.base_url.rstrip("/") + relative

    def invite(self, token: str) -> str:
        return self.absolute(path(INVITE, token=token))

    def unsubscribe(self, token: str) -> str:
        return self.absolute(unsubscribe(token))

    def meeting(self, token: str) -> str:
        return self.absolute(meeting(token))

    def rep_feed(self, token: str) -> str:
        return self.absolute(path(REP_FEED, token=token))

    def handoff(self, public_id: str) -> str:
        """The conversation of a handoff in the reps' inbox."""
        return self.absolute(path(INBOX_HANDOFF, public_id=public_id))

    def privacy(self) -> str:
        return self.absolute(PRIVACY)

    def inbox(self) -> str:
        return self.absolute(INBOX)

    def login(self) -> str:
        return self.absolute(LOGIN)

    def welcome(self, token: str) -> str:
        """A rep's one-time link to choose a password."""
        return self.absolute(path(WELCOME, token=token))

    def lead(self, lead_id: str) -> str:
        return self.absolute(inbox_lead(lead_id))

    @property
    def site(self) -> str:
        return self.base_url.rstrip("/")
