"""Who may read the reps' pages, turned into HTTP: session cookies, CSRF checks, the API key.

- Reps sign in at `/inbox/login` (bot/accounts: argon2 hashes, server-side sessions). The
  session cookie is HttpOnly, SameSite=Lax, Path=/inbox, and Secure when PUBLIC_BASE_URL is
  https (or the request came over TLS).
- Every form that changes something carries the session's CSRF token (`csrf` field), checked
  in constant time; the sign-in form, before there is a session, carries a double-submit token
  (a random value both in a cookie and in the form).
- `INBOX_TOKEN` is only an API key for the exports, in an `Authorization: Bearer` header; never
  in a URL.

Route modules use `rep_page` (pages: redirect to sign-in), `rep_or_api_key` (downloads: 401)
and `csrf_refused` (forms).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import secrets
from typing import Awaitable, Callable, Mapping

from aiohttp import web

from bot.accounts.service import SignedIn, csrf_matches
from bot.web import urls
from bot.web.context import SETTINGS_KEY, services
from bot.web.templating import PAGES_KEY, PRIVATE_HEADERS

SESSION_COOKIE = "leadbot_session"
LOGIN_CSRF_COOKIE = "leadbot_login_csrf"
COOKIE_PATH = urls.INBOX  # the cookies go nowhere but the reps' pages
REP_KEY = "leadbot.rep"  # request key: the SignedIn of this request

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def check_token(given: str | None, expected: str) -> bool:
    """Constant-time token check; an empty expected token means "disabled" (always False)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def secure_cookies(request: web.Request) -> bool:
    return request.secure or request.app[SETTINGS_KEY].public_base_url.startswith("https://")


def set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(request),
    )


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path=COOKIE_PATH)


async def signed_in(request: web.Request) -> SignedIn | None:
    """The rep this request's session cookie belongs to (cached on the request)."""
    if REP_KEY not in request:
        token = request.cookies.get(SESSION_COOKIE)
        request[REP_KEY] = (
            await asyncio.to_thread(services(request).accounts.session, token) if token else None
        )
    return request[REP_KEY]


def login_redirect(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(urls.with_query(urls.LOGIN, {"next": request.path_qs}))


def rep_page(handler: Callable[[web.Request, SignedIn], Awaitable[web.StreamResponse]]) -> Handler:
    """A page for signed-in reps; anyone else is sent to the sign-in page and back."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        rep = await signed_in(request)
        if rep is None:
            raise login_redirect(request)
        return await handler(request, rep)

    return wrapper


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def rep_or_api_key(request: web.Request) -> web.Response | None:
    """None when a signed-in rep or the API key (INBOX_TOKEN as a Bearer header) asks;
    otherwise the 401 to answer. A token in the URL is refused: URLs end up in logs."""
    key = _bearer(request)
    if key is not None:
        if check_token(key, request.app[SETTINGS_KEY].inbox_token):
            return None
    elif await signed_in(request) is not None:
        return None
    detail = "sign in at /inbox/login, or send the API key as Authorization: Bearer <INBOX_TOKEN>"
    if "token" in request.query:
        detail = "the API key goes in the Authorization header, never in the URL"
    return web.json_response(
        {"error": "unauthorized", "detail": detail},
        status=401,
        headers={**PRIVATE_HEADERS, "WWW-Authenticate": 'Bearer realm="Leadbot exports"'},
    )


def forbidden(request: web.Request) -> web.Response:
    return request.app[PAGES_KEY].notice("form_expired", 403)


def csrf_refused(
    request: web.Request, form: Mapping[str, object], expected: str
) -> web.Response | None:
    """None when the form carries the expected CSRF token; otherwise the 403 page to answer."""
    given = form.get("csrf")
    if csrf_matches(expected, given if isinstance(given, str) else None):
        return None
    return forbidden(request)


def login_csrf(request: web.Request) -> str:
    """The double-submit token of the sign-in form (the cookie's, or a new one)."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 64 else secrets.token_urlsafe(24)
