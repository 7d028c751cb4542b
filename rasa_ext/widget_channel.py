"""The website widget's channel: POST /webhooks/widget/webhook, called cross-origin by browsers.

Same request and reply shapes as the REST channel (`{"sender", "message", "metadata"}` in, a JSON
list of bot messages out), and the same guards, limits and idempotent retries
(rasa_ext/channels.py: 400/413 JSON errors, per-address, per-conversation and new-conversation
limits answered 429 + Retry-After, shared through Redis when REDIS_URL is set; a message resent
with the same `message_id` is answered from the first reply, by whichever process gets it),
plus what a public browser endpoint needs:

- CORS for the configured origins only (ALLOWED_ORIGINS; Rasa's `--cors` is not used), with
  OPTIONS preflight; a browser request from any other origin is refused with 403.
- `metadata` (page URL, referrer, UTM parameters, time zone, locale) reaches the tracker as
  `latest_message["metadata"]`, where the actions read the lead's source.
- Visitor sessions (bot/leads/sessions.py): `POST /webhooks/widget/session` mints a new
  conversation id and its token; every message must carry both (`sender`, `session`). A
  message for a minted id with a missing or wrong token is refused with 403 `invalid_session`
  (the widget then starts a fresh session, as a product does when a cookie no longer checks
  out): continuing someone else's conversation would let whoever learnt its id correct the
  lead's email or ask "what do you know about me?". Ids the server did not mint are refused
  with 401 `session_required`. Minting counts against the same per-address limits as
  messages (a new conversation; bot/edge/ratelimit.py): over them it is refused with 429 +
  Retry-After, which the widget waits out and retries like a refused message. The verdict
  reaches the actions as
  `metadata[SESSION_METADATA_KEY]`, overwriting anything the client put there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Dict, Tuple

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config.secret import resolve_secret_key
from bot.config.settings import Settings, origin_of
from bot.edge.chat import (  # noqa: F401 - re-exported: the widget's request contract
    MAX_BODY_BYTES,
    MAX_METADATA_BYTES,
    MESSAGE_ID_PATTERN,
    SENDER_PATTERN,
    ChatRequest,
    ChatRequestError,
    parse_chat_request,
)
from bot.leads import sessions
from bot.leads.sessions import SESSION_METADATA_KEY
from rasa_ext.channels import GuardedRestInput, never_silent

WidgetError = ChatRequestError
CORS_MAX_AGE_S = 600


def check_session(key: bytes, sender: str, token: str | None) -> None:
    """Raise the error a message without a valid session gets (see the module docstring)."""
    if not sessions.SENDER_PATTERN.match(sender):
        raise ChatRequestError(
            401, "session_required", "start a session first: POST /webhooks/widget/session"
        )
    if not sessions.verify(key, sender, token):
        raise ChatRequestError(403, "invalid_session", "this session is not valid; start a new one")


class WidgetInput(GuardedRestInput):
    """`widget`: the REST contract for browsers on other origins (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    def __init__(
        self,
        allowed_origins: Tuple[str, ...] | None = None,
        max_message_chars: int | None = None,
    ) -> None:
        super().__init__(max_message_chars)
        settings = Settings.from_env()
        origins = settings.allowed_origins if allowed_origins is None else allowed_origins
        self.allowed_origins = frozenset(origin_of(o) for o in origins if origin_of(o))
        self._settings = settings
        self._session_key: bytes | None = None

    @property
    def session_key(self) -> bytes:
        """SECRET_KEY (or the generated key file the web process shares), read on first use."""
        if self._session_key is None:
            self._session_key = resolve_secret_key(
                self._settings.secret_key, self._settings.secret_key_file
            )
        return self._session_key

    def authorise(self, chat: ChatRequest) -> ChatRequest:
        check_session(self.session_key, chat.sender, chat.session)
        return replace(chat, metadata={**chat.metadata, SESSION_METADATA_KEY: True})

    @classmethod
    def from_credentials(cls, credentials):  # type: ignore[no-untyped-def]
        credentials = credentials or {}
        origins = credentials.get("allowed_origins")
        if isinstance(origins, str):
            origins = [item for item in origins.split(",") if item.strip()]
        return cls(tuple(origins) if origins else None, credentials.get("max_message_chars"))

    # -- CORS ------------------------------------------------------------------------------
    def response_headers(self, request: Request) -> Dict[str, str]:
        origin = request.headers.get("origin")
        headers = {"Vary": "Origin", "X-Content-Type-Options": "nosniff"}
        if origin and origin.lower() in self.allowed_origins:
            headers["Access-Control-Allow-Origin"] = origin
        return headers

    def _origin_refused(self, request: Request) -> bool:
        """A browser request from an origin not allowed (requests without Origin are not
        from a browser's cross-origin fetch: curl, server-to-server, same-origin GET)."""
        origin = request.headers.get("origin")
        return bool(origin) and origin.lower() not in self.allowed_origins

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        widget = Blueprint("widget_webhook", __name__)
        handle = never_silent(on_new_message, self.no_reply_text)

        @widget.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"}, headers=self.response_headers(request))

        def preflight_response(request: Request) -> HTTPResponse:
            if self._origin_refused(request) or not request.headers.get("origin"):
                return self.error(
                    request, ChatRequestError(403, "origin_not_allowed", "origin not allowed")
                )
            return response.empty(
                status=204,
                headers={
                    **self.response_headers(request),
                    "Access-Control-Allow-Methods": "POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": str(CORS_MAX_AGE_S),
                },
            )

        @widget.route("/webhook", methods=["OPTIONS"])
        async def preflight(request: Request) -> HTTPResponse:
            return preflight_response(request)

        @widget.route("/session", methods=["OPTIONS"])
        async def session_preflight(request: Request) -> HTTPResponse:
            return preflight_response(request)

        @widget.route("/session", methods=["POST"])
        async def new_session(request: Request) -> HTTPResponse:
            """A new conversation: an id the server chose and the token that proves it."""
            if self._origin_refused(request):
                return self.error(
                    request, ChatRequestError(403, "origin_not_allowed", "origin not allowed")
                )
            minted = sessions.new_session(self.session_key)
            address = self.gate.client(request.ip, request.headers.getall("x-forwarded-for", []))
            refusal = await self.gate.admit_new(address, minted.sender_id)
            if refusal:
                error = ChatRequestError(
                    429, refusal.code, f"{refusal.detail}; retry in {refusal.retry_after_s} s"
                )
                return self.error(
                    request,
                    error,
                    **{"Retry-After": str(refusal.retry_after_s), "Cache-Control": "no-store"},
                )
            return response.json(
                {"sender": minted.sender_id, "session": minted.token},
                status=201,
                headers={**self.response_headers(request), "Cache-Control": "no-store"},
            )

        @widget.middleware("response")
        async def own_preflight(request: Request, _: HTTPResponse) -> HTTPResponse | None:
            # Rasa always installs Sanic-CORS, whose request middleware answers every OPTIONS
            # itself (with no CORS headers unless `--cors` is given) before routing reaches
            # `preflight`; this channel's answer replaces that one.
            if request.method == "OPTIONS":
                return preflight_response(request)
            return None

        @widget.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if self._origin_refused(request):
                return self.error(
                    request, ChatRequestError(403, "origin_not_allowed", "origin not allowed")
                )
            return await self.answer(request, handle)

        return widget
