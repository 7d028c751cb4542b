"""Reps sign in (`GET`/`POST /inbox/login`) and out (`POST /inbox/logout`)."""

from __future__ import annotations

import asyncio
from typing import List

from aiohttp import web

from bot.accounts.service import SignedIn, normalise_email
from bot.web import auth, urls
from bot.web.context import services
from bot.web.templating import PAGES_KEY

LOGIN_CSRF_MAX_AGE = 3600
MAX_FORM_BYTES = 8 * 1024


def _next(value: object) -> str:
    """Where to go after signing in: only a path of the reps' pages (no open redirect)."""
    if isinstance(value, str) and value.startswith(urls.INBOX) and "//" not in value:
        if "\\" not in value and value != urls.LOGIN:
            return value
    return urls.INBOX


def _form(
    request: web.Request, status: int = 200, error: str = "", email: str = "", next_: str = ""
) -> web.Response:
    csrf = auth.login_csrf(request)
    response = request.app[PAGES_KEY].private(
        "inbox/login.html",
        status=status,
        csrf=csrf,
        error=error,
        email=email,
        next=_next(next_ or request.query.get("next")),
    )
    auth.set_cookie(request, response, auth.LOGIN_CSRF_COOKIE, csrf, LOGIN_CSRF_MAX_AGE)
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    if await auth.signed_in(request) is not None:
        raise web.HTTPSeeOther(_next(request.query.get("next")))
    return _form(request)


async def login(request: web.Request) -> web.StreamResponse:
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        return _form(request, 413, "That form was too large.")
    form = await request.post()
    refused = auth.csrf_refused(request, form, request.cookies.get(auth.LOGIN_CSRF_COOKIE, ""))
    if refused is not None:
        return refused
    email = str(form.get("email") or "")[:320]
    password = str(form.get("password") or "")
    next_ = str(form.get("next") or "")
    made = services(request)
    keys = ("email:" + normalise_email(email), "address:" + (request.remote or "?"))
    wait = made.throttle.retry_after(*keys)
    if wait:
        response = _form(
            request,
            429,
            "Too many failed sign-ins. Wait a few minutes, then try again.",
            email,
            next_,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    new = await asyncio.to_thread(made.accounts.sign_in, email, password)
    if new is None:
        made.throttle.failed(*keys)
        return _form(request, 401, "Wrong email or password.", email, next_)
    response = web.HTTPSeeOther(_next(next_))
    lifetime = int((new.session.expires_at - made.now()).total_seconds())
    auth.set_cookie(request, response, auth.SESSION_COOKIE, new.token, lifetime)
    auth.clear_cookie(response, auth.LOGIN_CSRF_COOKIE)
    return response


@auth.rep_page
async def logout(request: web.Request, rep: SignedIn) -> web.StreamResponse:
    refused = auth.csrf_refused(request, await request.post(), rep.csrf_token)
    if refused is not None:
        return refused
    await asyncio.to_thread(
        services(request).accounts.sign_out, request.cookies.get(auth.SESSION_COOKIE)
    )
    response = web.HTTPSeeOther(urls.LOGIN)
    auth.clear_cookie(response, auth.SESSION_COOKIE)
    return response


def routes() -> List[web.AbstractRouteDef]:
    return [
        web.get(urls.LOGIN, login_form),
        web.post(urls.LOGIN, login),
        web.post(urls.LOGOUT, logout),
    ]
