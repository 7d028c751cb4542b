"""Reps sign in (`GET`/`POST /inbox/login`), out (`POST /inbox/logout`), and choose their
password from an emailed invitation (`GET`/`POST /inbox/welcome/{token}`, once)."""

from __future__ import annotations

import asyncio
from typing import Any, List

from aiohttp import web

from bot.accounts.service import PasswordError, SignedIn, normalise_email
from bot.web import auth, urls
from bot.web.context import services
from bot.web.forms import read_form
from bot.web.templating import PAGES_KEY

LOGIN_CSRF_MAX_AGE = 3600
MAX_FORM_BYTES = 8 * 1024


def _next(value: object) -> str:
    """Where to go after signing in: only a path of the reps' pages (no open redirect)."""
    if isinstance(value, str) and value.startswith(urls.INBOX) and "//" not in value:
        if "\\" not in value and value != urls.LOGIN:
            return value
    return urls.INBOX


def _before_session(
    request: web.Request, template: str, status: int, **context: Any
) -> web.Response:
    """A form posted before there is a session: its CSRF token also goes in a cookie."""
    csrf = auth.login_csrf(request)
    response = request.app[PAGES_KEY].private(template, status=status, csrf=csrf, **context)
    auth.set_cookie(request, response, auth.LOGIN_CSRF_COOKIE, csrf, LOGIN_CSRF_MAX_AGE)
    return response


def _form(
    request: web.Request, status: int = 200, error: str = "", email: str = "", next_: str = ""
) -> web.Response:
    """The sign-in page, with the error `error` (a macro of messages.txt) above it if any."""
    next_ = _next(next_ or request.query.get("next"))
    said = request.app[PAGES_KEY].say(error) if error else ""
    return _before_session(request, "inbox/login.html", status, error=said, email=email, next=next_)


async def login_form(request: web.Request) -> web.StreamResponse:
    if await auth.signed_in(request) is not None:
        raise web.HTTPSeeOther(_next(request.query.get("next")))
    return _form(request)


async def login(request: web.Request) -> web.StreamResponse:
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        return _form(request, 413, "login_too_large")
    form = await read_form(request)
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
        response = _form(request, 429, "login_throttled", email, next_)
        response.headers["Retry-After"] = str(wait)
        return response
    new = await asyncio.to_thread(made.accounts.sign_in, email, password)
    if new is None:
        made.throttle.failed(*keys)
        return _form(request, 401, "login_wrong", email, next_)
    response = web.HTTPSeeOther(_next(next_))
    lifetime = int((new.session.expires_at - made.now()).total_seconds())
    auth.set_cookie(request, response, auth.SESSION_COOKIE, new.token, lifetime)
    auth.clear_cookie(response, auth.LOGIN_CSRF_COOKIE)
    return response


@auth.rep_page
async def logout(request: web.Request, rep: SignedIn) -> web.StreamResponse:
    refused = auth.csrf_refused(request, await read_form(request), rep.csrf_token)
    if refused is not None:
        return refused
    await asyncio.to_thread(
        services(request).accounts.sign_out, request.cookies.get(auth.SESSION_COOKIE)
    )
    response = web.HTTPSeeOther(urls.LOGIN)
    auth.clear_cookie(response, auth.SESSION_COOKIE)
    return response


def _welcome_form(
    request: web.Request, email: str, status: int = 200, error: str = "", **values: object
) -> web.Response:
    """The welcome page, with the error `error` (a macro of messages.txt) above it if any."""
    action = urls.path(urls.WELCOME, token=request.match_info["token"])
    said = request.app[PAGES_KEY].say(error, **values) if error else ""
    return _before_session(
        request, "inbox/welcome.html", status, error=said, email=email, action=action
    )


def _invitation_gone(request: web.Request) -> web.Response:
    return request.app[PAGES_KEY].notice("invitation_gone", 404, login=urls.LOGIN)


async def welcome_form(request: web.Request) -> web.StreamResponse:
    accounts = services(request).accounts
    email = await asyncio.to_thread(accounts.invited, request.match_info["token"])
    return _invitation_gone(request) if email is None else _welcome_form(request, email)


async def welcome(request: web.Request) -> web.StreamResponse:
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        return _invitation_gone(request)
    form = await read_form(request)
    refused = auth.csrf_refused(request, form, request.cookies.get(auth.LOGIN_CSRF_COOKIE, ""))
    if refused is not None:
        return refused
    made, token = services(request), request.match_info["token"]
    email = await asyncio.to_thread(made.accounts.invited, token)
    if email is None:
        return _invitation_gone(request)
    password = str(form.get("password") or "")
    if password != str(form.get("again") or ""):
        return _welcome_form(request, email, 400, "passwords_differ")
    try:
        new = await asyncio.to_thread(made.accounts.accept_invite, token, password)
    except PasswordError as error:
        return _welcome_form(request, email, 400, "password_" + error.rule, limit=error.limit)
    if new is None:
        return _invitation_gone(request)
    response = web.HTTPSeeOther(urls.INBOX)
    lifetime = int((new.session.expires_at - made.now()).total_seconds())
    auth.set_cookie(request, response, auth.SESSION_COOKIE, new.token, lifetime)
    auth.clear_cookie(response, auth.LOGIN_CSRF_COOKIE)
    return response


def routes() -> List[web.AbstractRouteDef]:
    welcome_path = urls.route(urls.WELCOME, token=urls.TOKEN)
    return [
        web.get(urls.LOGIN, login_form),
        web.post(urls.LOGIN, login),
        web.post(urls.LOGOUT, logout),
        web.get(welcome_path, welcome_form),
        web.post(welcome_path, welcome),
    ]
