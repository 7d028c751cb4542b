"""The website widget's channel: POST /webhooks/widget/webhook, called cross-origin by browsers.

Same request and reply shapes as the REST channel (`{"sender", "message", "metadata"}` in, a JSON
list of bot messages out), and the same guards (empty/oversized text answered clearly, never
silent), plus what a public browser endpoint needs:

- CORS for the configured origins only (ALLOWED_ORIGINS; Rasa's `--cors` is not used), with
  OPTIONS preflight; a browser request from any other origin is refused with 403.
- Malformed requests get HTTP 400 with a JSON error saying what is wrong; an oversized body 413.
- A per-sender rate limit (in memory, per Rasa process): HTTP 429 with a JSON error.
- Idempotent retries: the widget resends a message it got no answer for with the same
  `message_id`; a message already processed gets its earlier reply instead of being processed
  twice, one still being processed is waited for.
- `metadata` (page URL, referrer, UTM parameters, time zone, locale) reaches the tracker as
  `latest_message["metadata"]`, where the actions read the lead's source.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any, Deque, Dict, List, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config.settings import Settings, origin_of
from rasa_ext.channels import GuardedRestInput, guard_message, never_silent

SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
MESSAGE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_BODY_BYTES = 32_768  # a chat message of MAX_MESSAGE_CHARS plus metadata fits easily
MAX_METADATA_BYTES = 8_192
REPLAY_TTL_S = 600.0
REPLAY_MAX = 5_000
CORS_MAX_AGE_S = 600


class RateLimiter:
    """At most `limit` events per `window_s` seconds per key (sliding window, in memory)."""

    def __init__(self, limit: int, window_s: float, max_keys: int = 50_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._events: OrderedDict[str, Deque[float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        events = self._events.pop(key, None) or deque()
        while events and now - events[0] >= self.window_s:
            events.popleft()
        allowed = len(events) < self.limit
        if allowed:
            events.append(now)
        self._events[key] = events  # most recently seen last
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        return allowed

    def retry_after(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        events = self._events.get(key)
        return max(0.0, self.window_s - (now - events[0])) if events else 0.0


class WidgetError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def parse_payload(body: bytes) -> Tuple[str, object, Dict[str, Any], str | None]:
    """(sender, message, metadata, message_id) from a request body, or a WidgetError."""
    if len(body) > MAX_BODY_BYTES:
        raise WidgetError(413, "too_large", f"the request body is over {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        raise WidgetError(400, "invalid_json", "the request body is not JSON") from None
    if not isinstance(payload, dict):
        raise WidgetError(400, "invalid_payload", "the request body must be a JSON object")
    sender = payload.get("sender")
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        raise WidgetError(
            400, "invalid_sender", "sender must be 1-128 characters: letters, digits, _.:@-"
        )
    message = payload.get("message")
    if not isinstance(message, str):
        raise WidgetError(400, "invalid_message", "message must be a string")
    metadata = payload.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise WidgetError(400, "invalid_metadata", "metadata must be a JSON object")
    if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise WidgetError(413, "metadata_too_large", f"metadata is over {MAX_METADATA_BYTES} bytes")
    message_id = payload.get("message_id")
    if message_id is not None and (
        not isinstance(message_id, str) or not MESSAGE_ID_PATTERN.match(message_id)
    ):
        raise WidgetError(400, "invalid_message_id", "message_id must be 1-64 of [A-Za-z0-9_-]")
    return sender, message, metadata, message_id


class WidgetInput(GuardedRestInput):
    """`widget`: the REST contract for browsers on other origins (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    def __init__(
        self,
        allowed_origins: Tuple[str, ...] | None = None,
        max_message_chars: int | None = None,
        rate_limit: int | None = None,
        rate_window_s: float | None = None,
    ) -> None:
        super().__init__(max_message_chars)
        settings = Settings.from_env()
        origins = settings.allowed_origins if allowed_origins is None else allowed_origins
        self.allowed_origins = frozenset(origin_of(o) for o in origins if origin_of(o))
        self.limiter = RateLimiter(
            rate_limit or settings.widget_rate_limit,
            rate_window_s or settings.widget_rate_window_s,
        )
        self._replies: OrderedDict[Tuple[str, str], Tuple[float, asyncio.Future]] = OrderedDict()

    @classmethod
    def from_credentials(cls, credentials):  # type: ignore[no-untyped-def]
        credentials = credentials or {}
        origins = credentials.get("allowed_origins")
        if isinstance(origins, str):
            origins = [item for item in origins.split(",") if item.strip()]
        return cls(
            tuple(origins) if origins else None,
            credentials.get("max_message_chars"),
            credentials.get("rate_limit"),
            credentials.get("rate_window_s"),
        )

    # -- CORS ------------------------------------------------------------------------------
    def _cors_headers(self, request: Request) -> Dict[str, str]:
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

    def _error(self, request: Request, error: WidgetError, **extra: str) -> HTTPResponse:
        return response.json(
            {"error": error.code, "detail": error.detail},
            status=error.status,
            headers={**self._cors_headers(request), **extra},
        )

    # -- replays of retried messages -------------------------------------------------------
    def _replay_slot(self, key: Tuple[str, str]) -> Tuple[asyncio.Future, bool]:
        """The future holding this message's reply, and whether this request must compute it."""
        now = time.monotonic()
        while self._replies:
            oldest_key, (created, _) = next(iter(self._replies.items()))
            if now - created < REPLAY_TTL_S and len(self._replies) < REPLAY_MAX:
                break
            self._replies.pop(oldest_key)
        if key in self._replies:
            return self._replies[key][1], False
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._replies[key] = (now, future)
        return future, True

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        widget = Blueprint("widget_webhook", __name__)

        handle = never_silent(on_new_message, self.no_reply_text)

        async def process(sender: str, text: str, metadata: Dict[str, Any]) -> List[Any]:
            collector = CollectingOutputChannel()
            await handle(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            )
            return collector.messages

        @widget.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"}, headers=self._cors_headers(request))

        def preflight_response(request: Request) -> HTTPResponse:
            if self._origin_refused(request) or not request.headers.get("origin"):
                return self._error(
                    request, WidgetError(403, "origin_not_allowed", "origin not allowed")
                )
            return response.empty(
                status=204,
                headers={
                    **self._cors_headers(request),
                    "Access-Control-Allow-Methods": "POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": str(CORS_MAX_AGE_S),
                },
            )

        @widget.route("/webhook", methods=["OPTIONS"])
        async def preflight(request: Request) -> HTTPResponse:
            return preflight_response(request)

        @widget.middleware("response")
        async def own_preflight(request: Request, _: HTTPResponse) -> HTTPResponse | None:
            # Rasa always installs Sanic-CORS, whose request middleware answers every OPTIONS
            # itself (with no CORS headers unless `--cors` is given) before routing reaches
            # `preflight`; this channel's answer replaces that one.
            if request.method == "OPTIONS":
                return preflight_response(request)
            return None

        @widget.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self._origin_refused(request):
                return self._error(
                    request, WidgetError(403, "origin_not_allowed", "origin not allowed")
                )
            try:
                sender, message, metadata, message_id = parse_payload(request.body)
            except WidgetError as error:
                return self._error(request, error)
            key = (sender, message_id) if message_id else None
            if key and key in self._replies and self._replies[key][1].done():
                replies = self._replies[key][1].result()  # a retry of a message already answered
                return response.json(replies, headers=self._cors_headers(request))
            if not self.limiter.allow(sender):
                wait = max(1, round(self.limiter.retry_after(sender)))
                return self._error(
                    request,
                    WidgetError(429, "rate_limited", f"too many messages; retry in {wait} s"),
                    **{"Retry-After": str(wait)},
                )
            text = guard_message(message, self.max_message_chars)
            if key is None:
                replies = await process(sender, text, metadata)
                return response.json(replies, headers=self._cors_headers(request))
            future, compute = self._replay_slot(key)
            if compute:
                try:
                    future.set_result(await process(sender, text, metadata))
                except BaseException as error:  # noqa: BLE001 - let a retry compute it again
                    self._replies.pop(key, None)
                    future.cancel()
                    raise error
            replies = await asyncio.shield(future)
            return response.json(replies, headers=self._cors_headers(request))

        return widget
