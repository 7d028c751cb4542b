"""One conversation's milestones, read from its Rasa tracker events (plain dicts).

The events are what Rasa stores (`{"event": "user" | "bot" | "slot" | ..., "timestamp": ...}`);
nothing here keeps what the visitor typed: only which milestones happened, and when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Dict, Iterable, Mapping, Tuple
from urllib.parse import urlsplit

from bot.conversation.questions import QUESTIONS
from bot.leads.privacy import source_from_metadata
from bot.storage.enums import Tier

# The widget sends this hidden message when a visitor opens it; it is not a visitor's message.
WIDGET_START_MESSAGE = "/greet"
# Slots whose first non-empty value marks a milestone.
TIER_SLOT = "lead_tier"
BOOKED_SLOT = "meeting_invite_url"


@dataclass
class Journey:
    """The milestones of one conversation (times are UTC datetimes)."""

    conversation_id: str
    opened_at: datetime | None = None
    first_message_at: datetime | None = None
    consented: bool = False
    asked: Dict[str, int] = field(default_factory=dict)  # question -> times asked
    reasked: Dict[str, int] = field(default_factory=dict)  # question -> re-asks after an error
    answered: Tuple[str, ...] = ()
    tier: str | None = None
    booked_at: datetime | None = None
    nurtured: bool = False
    first_human_reply_at: datetime | None = None
    page: str | None = None  # page path where the conversation started, no query string
    campaign: str | None = None  # utm_campaign

    @property
    def day(self) -> date | None:
        return self.opened_at.date() if self.opened_at else None

    @property
    def scored(self) -> bool:
        return self.tier is not None

    @property
    def sales_qualified(self) -> bool:
        return self.tier == Tier.SALES_QUALIFIED.value

    @property
    def booked(self) -> bool:
        return self.booked_at is not None

    @property
    def speed_to_lead_s(self) -> float | None:
        """First message to a booked meeting or a person's first reply, whichever came first."""
        reached = [t for t in (self.booked_at, self.first_human_reply_at) if t is not None]
        if self.first_message_at is None or not reached:
            return None
        return max(0.0, (min(reached) - self.first_message_at).total_seconds())


def _time(event: Mapping[str, Any]) -> datetime | None:
    stamp = event.get("timestamp")
    if isinstance(stamp, (int, float)):
        return datetime.fromtimestamp(stamp, timezone.utc)
    return None


def _page(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return (parts.path or "/") if parts.scheme in ("http", "https") else None


# Longest first: `utter_invalid_company_size_zero` is about company_size, not company.
_BY_LENGTH = sorted(QUESTIONS, key=len, reverse=True)


def _question_of(response: str, prefix: str) -> str | None:
    """The question a response named `<prefix><question>[_<error>]` belongs to."""
    if not response.startswith(prefix):
        return None
    rest = response[len(prefix) :]
    for question in _BY_LENGTH:
        if rest == question or rest.startswith(question + "_"):
            return question
    return None


def journey(conversation_id: str, events: Iterable[Mapping[str, Any]]) -> Journey:
    """The milestones in `events` (one conversation's tracker events, oldest first)."""
    seen = Journey(conversation_id)
    answered = []
    for event in events:
        kind = event.get("event")
        at = _time(event)
        if kind == "user":
            if seen.opened_at is None:
                seen.opened_at = at
                source = source_from_metadata(event.get("metadata")) or {}
                seen.page = _page(source.get("page_url"))
                seen.campaign = source.get("utm_campaign")
            text = (event.get("text") or "").strip()
            if seen.first_message_at is None and text and text != WIDGET_START_MESSAGE:
                seen.first_message_at = at
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            # A re-ask said in place of the question (rasa_ext/nlg.py) is a re-ask.
            utter = metadata.get("reask_response") or metadata.get("utter_action") or ""
            asked = _question_of(utter, "utter_ask_")
            reasked = _question_of(utter, "utter_invalid_")
            if asked:
                seen.asked[asked] = seen.asked.get(asked, 0) + 1
            if reasked:
                seen.reasked[reasked] = seen.reasked.get(reasked, 0) + 1
            if metadata.get("rep") and seen.first_human_reply_at is None:
                seen.first_human_reply_at = at
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "consent" and value is True:
                seen.consented = True
            elif name in QUESTIONS and value not in (None, "") and name not in answered:
                answered.append(name)
            elif name == TIER_SLOT and value:
                seen.tier = str(value)
            elif name == BOOKED_SLOT and value and seen.booked_at is None:
                seen.booked_at = at
    seen.answered = tuple(answered)
    return seen
