"""The REST channel, same URL and contract (/webhooks/rest/webhook), with input guards.

An empty message or one too long to be a chat message is turned into an intent payload, so
the visitor gets a clear answer from the domain's responses (and the form asks its question
again) instead of silence, and a megabyte of text never reaches the NLU pipeline. A turn that
produced no reply at all (the action server or the database is down), or whose conversation
could not be saved, gets an apology.

Unlike Rasa's RestInput, whose blueprint this replaces:

- a malformed request (not a JSON object, no `sender` or not a plain id — Rasa would put every
  such request in one shared conversation called `default` —, a `message` that is not a
  string, `metadata` that is not an object) is answered 400 with a JSON error, a body over
  MAX_BODY_BYTES or metadata over MAX_METADATA_BYTES 413, read without buffering more than that;
- the client address (bot/edge/address.py) is rate limited, and so is each conversation and the
  number of new conversations an address starts (bot/edge/ratelimit.py): 429 + Retry-After;
- a `message_id` makes a retried message answered once (bot/edge/replay.py);
- `input_channel` and `?stream=` from the client are not honoured: the channel is this one;
- REST clients have no visitor session (bot/leads/sessions.py): every message is marked
  unverified in `metadata[SESSION_METADATA_KEY]`, whatever the client sent there, so "what do
  you know about me?" and "forget me" answer that they can't check it's you; a conversation id
  the widget channel minted (`v-...`) can't be written to here at all (403), or whoever learnt
  it could continue, and correct, someone else's conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config.settings import PROJECT_ROOT, Settings
from bot.edge.chat import (
    MAX_BODY_BYTES,
    ChatRequest,
    ChatRequestError,
    parse_chat_request,
    too_large,
)
from bot.edge.gate import ChannelGate
from bot.edge.replay import StillProcessing
from bot.leads.sessions import SENDER_PATTERN as MINTED_SENDER
from bot.leads.sessions import SESSION_METADATA_KEY
from bot.runtime.privacy_log import remember_message
from rasa_ext import paused
from rasa_ext.tracker_store import not_saved

log = logging.getLogger(__name__)

EMPTY_MESSAGE = "/empty_message"
MESSAGE_TOO_LONG = "/message_too_long"
BODY_READ_TIMEOUT_S = 10.0


def guard_message(text: object, max_chars: int) -> str:
    """The text Rasa should process for what the visitor sent."""
    if not isinstance(text, str) or not text.strip():
        return EMPTY_MESSAGE
    if len(text) > max_chars:
        return MESSAGE_TOO_LONG
    return text


async def read_body(request: Request) -> bytes:
    """The body of a streamed request, never more than MAX_BODY_BYTES of it (else 413)."""
    try:
        declared = int(request.headers.get("content-length", "0") or 0)
    except ValueError:
        raise ChatRequestError(400, "invalid_length", "Content-Length is not a number") from None
    error = too_large(declared)
    if error:
        raise error
    if request.stream is None:
        return request.body or b""
    chunks: List[bytes] = []
    size = 0

    async def read() -> None:
        nonlocal size
        while True:
            chunk = await request.stream.read()
            if chunk is None:
                return
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_large(size)  # type: ignore[misc]
            chunks.append(chunk)

    try:
        await asyncio.wait_for(read(), BODY_READ_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise ChatRequestError(408, "body_timeout", "the request body came too slowly") from None
    return b"".join(chunks)


class GuardedRestInput(RestInput):
    """`rest`, with the checks and limits of the module docstring."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, max_message_chars: int | None = None) -> None:
        settings = Settings.from_env()
        self.max_message_chars = max_message_chars or settings.max_message_chars
        self.no_reply_text = no_reply_text()
        self.gate = ChannelGate(settings)

    @classmethod
    def from_credentials(cls, credentials):  # type: ignore[no-untyped-def]
        return cls((credentials or {}).get("max_message_chars"))

    def response_headers(self, request: Request) -> Dict[str, str]:
        return {"X-Content-Type-Options": "nosniff"}

    def error(self, request: Request, error: ChatRequestError, **extra: str) -> HTTPResponse:
        return response.json(
            error.body(), status=error.status, headers={**self.response_headers(request), **extra}
        )

    async def answer(
        self, request: Request, handle: Callable[[UserMessage], Awaitable[None]]
    ) -> HTTPResponse:
        """Check, limit, process (once per message_id) and reply to one chat request."""
        try:
            chat = self.authorise(parse_chat_request(await read_body(request)))
        except ChatRequestError as error:
            return self.error(request, error)
        remember_message(chat.message)
        headers = self.response_headers(request)
        if chat.message_id:
            earlier = await self.gate.replay.earlier_reply(chat.sender, chat.message_id)
            if earlier is not None:  # a retry of a message already answered: not counted
                return response.json(earlier, headers=headers)
        address = self.gate.client(request.ip, request.headers.getall("x-forwarded-for", []))
        refusal = await self.gate.admit(address, chat.sender)
        if refusal:
            error = ChatRequestError(
                429, refusal.code, f"{refusal.detail}; retry in {refusal.retry_after_s} s"
            )
            return self.error(request, error, **{"Retry-After": str(refusal.retry_after_s)})

        async def process() -> List[Any]:
            return await self.process(handle, chat)

        if not chat.message_id:
            return response.json(await process(), headers=headers)
        try:
            replies = await self.gate.replay.once(chat.sender, chat.message_id, process)
        except StillProcessing:
            error = ChatRequestError(503, "still_processing", "this message is being answered")
            return self.error(request, error, **{"Retry-After": "2"})
        return response.json(replies, headers=headers)

    def authorise(self, chat: ChatRequest) -> ChatRequest:
        """The request with the session verdict in its metadata, or a ChatRequestError.

        Checked before anything else (even a replayed reply is someone's conversation).
        """
        if MINTED_SENDER.match(chat.sender):
            raise ChatRequestError(
                403, "session_conversation", "this conversation belongs to a widget session"
            )
        return replace(chat, metadata={**chat.metadata, SESSION_METADATA_KEY: False})

    async def process(
        self, handle: Callable[[UserMessage], Awaitable[None]], chat: ChatRequest
    ) -> List[Any]:
        collector = CollectingOutputChannel()
        text = guard_message(chat.message, self.max_message_chars)
        message = UserMessage(
            text, collector, chat.sender, input_channel=self.name(), metadata=chat.metadata
        )
        try:
            await handle(message)  # a turn that fails still gets the apology (never_silent)
        except Exception as error:  # noqa: BLE001 - the type only: the text may quote the visitor
            log.error("%s channel: the turn failed: %s", self.name(), type(error).__name__)
        return collector.messages

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        rest = Blueprint("guarded_rest_webhook", __name__)
        handle = never_silent(on_new_message, self.no_reply_text)

        @rest.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.answer(request, handle)

        return rest


def never_silent(
    on_new_message: Callable[[UserMessage], Awaitable[None]], no_reply_text: str
) -> Callable[[UserMessage], Awaitable[None]]:
    """Wraps Rasa's message handler so a turn that produced no reply gets `no_reply_text`.

    Every turn of this bot answers something; no answer means a part is down (the action
    server, the database): say so rather than leave the visitor waiting. A turn that could not
    be saved (rasa_ext/tracker_store.py, `TurnNotSaved`) gets only the apology. The exception is a
    conversation a person has taken over (rasa_ext/paused.py): there the bot is silent.
    """

    async def handle(message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except Exception as error:
            channel = message.output_channel
            if not_saved(error) and isinstance(channel, CollectingOutputChannel):
                # The turn ran (the action server may have stored an answer) but the
                # conversation doesn't remember it: its replies would tell the visitor it
                # went through. The apology asks them to say it again, and the retry runs
                # on the conversation as it is stored (answers are stored idempotently).
                channel.messages.clear()
            raise
        finally:
            channel = message.output_channel
            if (
                isinstance(channel, CollectingOutputChannel)
                and not channel.messages
                and not paused.is_paused(message.sender_id)
            ):
                await channel.send_text_message(message.sender_id, no_reply_text)

    return handle


def no_reply_text(domain_file: Path = PROJECT_ROOT / "domain.yml") -> str:
    """The designers' wording for "something is down", from the domain's responses."""
    responses = yaml.safe_load(domain_file.read_text()).get("responses", {})
    return responses["utter_temporarily_unavailable"][0]["text"]
