"""The REST channel, same URL and contract (/webhooks/rest/webhook), with input guards.

An empty message or one too long to be a chat message is turned into an intent payload, so
the visitor gets a clear answer from the domain's responses (and the form asks its question
again) instead of silence, and a megabyte of text never reaches the NLU pipeline. A turn that
produced no reply at all (the action server or the database is down) gets an apology.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from bot.config.settings import PROJECT_ROOT, Settings

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
        self.no_reply_text = no_reply_text()

    @classmethod
    def from_credentials(cls, credentials):  # type: ignore[no-untyped-def]
        return cls((credentials or {}).get("max_message_chars"))

    def _extract_message(self, req: Request) -> str | None:
        return guard_message(req.json.get("message"), self.max_message_chars)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        return super().blueprint(never_silent(on_new_message, self.no_reply_text))


def never_silent(
    on_new_message: Callable[[UserMessage], Awaitable[None]], no_reply_text: str
) -> Callable[[UserMessage], Awaitable[None]]:
    """Wraps Rasa's message handler so a turn that produced no reply gets `no_reply_text`.

    Every turn of this bot answers something; no answer means a part is down (the action
    server, the database): say so rather than leave the visitor waiting.
    """

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        finally:
            channel = message.output_channel
            if isinstance(channel, CollectingOutputChannel) and not channel.messages:
                await channel.send_text_message(message.sender_id, no_reply_text)

    return handle


def no_reply_text(domain_file: Path = PROJECT_ROOT / "domain.yml") -> str:
    """The designers' wording for "something is down", from the domain's responses."""
    responses = yaml.safe_load(domain_file.read_text()).get("responses", {})
    return responses["utter_temporarily_unavailable"][0]["text"]
