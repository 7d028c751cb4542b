"""Who may read the reps' pages: INBOX_TOKEN (empty: the inbox is off), compared in constant
time, as `?token=` or `Authorization: Bearer`."""

from __future__ import annotations

import hmac
from typing import Tuple

from aiohttp import web

from bot.web.context import SETTINGS_KEY
from bot.web.templating import PAGES_KEY, PRIVATE_HEADERS


def check_token(given: str | None, expected: str) -> bool:
    """Constant-time token check; an empty expected token means "disabled" (always False)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _given_token(request: web.Request) -> Tuple[str | None, bool]:
    """The token and whether it came in the query (then links on the page must carry it)."""
    query = request.query.get("token")
    if query:
        return query, True
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    return None, False


def denied(request: web.Request, as_json: bool = False) -> Tuple[web.Response | None, str | None]:
    """(error response or None, token to put in links)."""
    expected = request.app[SETTINGS_KEY].inbox_token
    given, in_query = _given_token(request)
    if not expected:
        title = "Inbox disabled"
        message = "The inbox is turned off. Set INBOX_TOKEN to turn it on."
        status, extra = 404, {}
    elif not check_token(given, expected):
        title = "Not signed in"
        message = (
            "This page needs the inbox link with its token (or an Authorization: Bearer header)."
        )
        status, extra = 401, {"WWW-Authenticate": 'Bearer realm="Leadbot inbox"'}
    else:
        return None, given if in_query else None
    if as_json:
        error = "inbox_disabled" if status == 404 else "unauthorized"
        return web.json_response(
            {"error": error, "detail": message}, status=status, headers={**PRIVATE_HEADERS, **extra}
        ), None
    return request.app[PAGES_KEY].message(title, message, status, extra), None
