"""The action server (`python -m rasa_ext.action_server`): the Rasa SDK's executor with the
`actions` package, behind the shared secret, on BIND_HOST:ACTION_PORT.

rasa_sdk's own server listens on 0.0.0.0 and runs any action for anyone who reaches the port
(`action_show_my_data` with any conversation id read that lead). This one:

- refuses every call without `Authorization: Bearer <ACTION_SERVER_TOKEN>` (401), which Rasa
  sends from the endpoints file the launcher writes; only `/health` is open;
- answers malformed calls (not JSON, not an object, no `next_action`/`tracker`, a body over
  MAX_BODY_BYTES, a deflate bomb) with a 4xx JSON error, an unknown action with 404;
- never puts the request or the exception's text in a response or a log line: a failing
  action is a 500 with `{"error": "action_failed"}` and its exception type in the log.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from typing import Any, Callable, Dict

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.runtime.privacy_log import remember_message
from bot.runtime.tokens import bearer_matches
from rasa_ext.sanic_fixes import answer_malformed_urls

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024  # a long conversation's tracker fits many times over
OPEN_PATHS = frozenset({"/health"})


class BadCall(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code


def _fast_loads() -> Callable[[bytes], Any]:
    """ujson's parser (Sanic's dependency), ~1.5x json's on a call's ~60 KB (reports/profile.md),
    with json.loads for anything it refuses: a call json accepts is still accepted, the same
    way, and a bad one still fails as json fails."""
    try:
        import ujson
    except ImportError:  # pragma: no cover - Sanic installs it on CPython/Linux
        return json.loads

    def loads(body: bytes) -> Any:
        try:
            return ujson.loads(body)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return json.loads(body)

    return loads


_loads = _fast_loads()


def parse_call(request: Request) -> Dict[str, Any]:
    """The action call in a request body, or BadCall."""
    body = request.body or b""
    if request.headers.get("Content-Encoding") == "deflate":
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(body, MAX_BODY_BYTES + 1)
        except zlib.error:
            raise BadCall(400, "invalid_deflate") from None
        if len(body) > MAX_BODY_BYTES or inflater.unconsumed_tail:
            raise BadCall(413, "too_large")
    try:
        call = _loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadCall(400, "invalid_json") from None
    if not isinstance(call, dict):
        raise BadCall(400, "invalid_payload")
    if not isinstance(call.get("next_action"), str) or not call["next_action"]:
        raise BadCall(400, "invalid_next_action")
    tracker = call.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        raise BadCall(400, "invalid_tracker")
    shapes = (("slots", dict), ("latest_message", dict), ("events", list), ("active_loop", dict))
    for key, kind in shapes:
        if tracker.get(key) is not None and not isinstance(tracker[key], kind):
            raise BadCall(400, "invalid_tracker")
    if call.get("domain") is not None and not isinstance(call["domain"], dict):
        raise BadCall(400, "invalid_domain")
    latest = tracker.get("latest_message") or {}
    message_shapes = (("text", str), ("intent", dict), ("entities", list), ("metadata", dict))
    for key, kind in message_shapes:
        if latest.get(key) is not None and not isinstance(latest[key], kind):
            raise BadCall(400, "invalid_tracker")
    if not all(isinstance(entity, dict) for entity in latest.get("entities") or []):
        raise BadCall(400, "invalid_tracker")
    for event in tracker.get("events") or []:
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            raise BadCall(400, "invalid_tracker")
    return call


def create_app(token: str, actions_package: str = "actions") -> Sanic:
    if not token:
        raise ValueError("the action server needs a token")
    answer_malformed_urls()
    app = Sanic("leadbot_actions", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.REQUEST_TIMEOUT = 30
    executor = ActionExecutor()
    executor.register_package(actions_package)

    @app.middleware("request")
    async def authenticate(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not bearer_matches(request.headers.get("Authorization"), token):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    @app.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/actions")
    async def actions(_: Request) -> HTTPResponse:
        return response.json([{"name": name} for name in executor.actions])

    @app.post("/webhook")
    async def webhook(request: Request) -> HTTPResponse:
        try:
            call = parse_call(request)
        except BadCall as error:
            return response.json({"error": error.code}, status=error.status)
        for event in call["tracker"].get("events") or []:  # what the visitor typed: never logged
            if event.get("event") == "user":
                remember_message(event.get("text"))
        remember_message((call["tracker"].get("latest_message") or {}).get("text"))
        try:
            result = await executor.run(call)
        except ActionExecutionRejection as error:
            body = {"error": error.message, "action_name": error.action_name}
            return response.json(body, status=400)
        except ActionNotFoundException as error:
            return response.json({"error": "unknown_action", "action_name": error.action_name}, 404)
        except Exception as error:  # noqa: BLE001 - the type only: the text may hold answers
            log.error("action %s failed: %s", call["next_action"], type(error).__name__)
            return response.json({"error": "action_failed"}, status=500)
        return response.json(result)

    @app.exception(Exception)
    async def errors(request: Request, error: Exception) -> HTTPResponse:
        status = getattr(error, "status_code", 500) or 500
        if status >= 500:
            log.error("action server error: %s", type(error).__name__)
            return response.json({"error": "server_error"}, status=500)
        code = type(error).__name__.lower()
        return response.json({"error": code}, status=status)

    return app


def main() -> None:
    from dotenv import load_dotenv

    from bot.config.settings import Settings
    from bot.runtime.privacy_log import install_log_redaction
    from bot.runtime.tokens import action_server_token

    load_dotenv()
    settings = Settings.from_env()
    install_log_redaction(settings.log_level)
    app = create_app(action_server_token(settings))
    log.info("action server on %s:%s", settings.host, settings.action_port)
    app.run(
        settings.host,
        settings.action_port,
        workers=max(1, int(os.environ.get("ACTION_SERVER_SANIC_WORKERS", "1") or 1)),
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
