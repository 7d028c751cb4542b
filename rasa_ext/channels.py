"""The REST channel, same URL and contract (/webhooks/rest/webhook), with input guards.

An empty message or one too long to be a chat message is turned into an intent payload, so
the visitor gets a clear answer from the domain's responses (and the form asks its question
again) instead of silence, and a megabyte of text never reaches the NLU pipeline.
"""

from __future__ import annotations

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from bot.settings import Settings

EMPTY_MESSAGE = "/empty_message"
MESSAGE_TOO_LONG = "/message_too_long"


def guard_message(text: object, max_chars: int) -> str:
    """The text Rasa should process for what the visitor sent."""
    if not isinstance(text, str) or not text.strip():
        return EMPTY_MESSAGE
    if len(text) > max_chars:
        return MESSAGE_TOO_LONG
    return text


class GuardedRestInput(RestInput):
    """`rest`, with empty and oversized messages answered clearly."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, max_message_chars: int | None = None) -> None:
        self.max_message_chars = max_message_chars or Settings.from_env().max_message_chars

    @classmethod
    def from_credentials(cls, credentials):  # type: ignore[no-untyped-def]
        return cls((credentials or {}).get("max_message_chars"))

    def _extract_message(self, req: Request) -> str | None:
        return guard_message(req.json.get("message"), self.max_message_chars)
