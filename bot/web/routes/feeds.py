"""Calendars: a rep's subscribable feed (`/reps/{token}.ics`, the token an HMAC of the rep's
email) and the visitor's own invite (`/invite/{token}.ics`)."""

from __future__ import annotations

import asyncio
from typing import List

from aiohttp import web

from bot.booking.feeds import rep_for_feed_token
from bot.web import urls
from bot.web.context import services
from bot.web.templating import PAGES_KEY, PRIVATE_HEADERS


def _calendar(body: str, disposition: str) -> web.Response:
    return web.Response(
        text=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={
            **PRIVATE_HEADERS,
            "Cache-Control": "private, no-store",
            "Content-Disposition": disposition,
        },
    )


def _not_found(request: web.Request, message: str) -> web.Response:
    """A plain-text 404 worded by messages.txt's macro `message`."""
    text = request.app[PAGES_KEY].say(message) + "\n"
    return web.Response(text=text, status=404, headers=PRIVATE_HEADERS)


async def rep_feed(request: web.Request) -> web.Response:
    made = services(request)
    token = request.match_info["token"]

    def load() -> str | None:
        rep = rep_for_feed_token(made.secret(), made.core.reps, token)
        return made.core.booking.rep_feed_ics(rep.email) if rep is not None else None

    body = await asyncio.to_thread(load)
    if body is None:
        return _not_found(request, "no_feed")
    return _calendar(body, 'inline; filename="meetings.ics"')


async def invite(request: web.Request) -> web.Response:
    made = services(request)
    body = await asyncio.to_thread(made.core.booking.invite_ics, request.match_info["token"])
    if body is None:
        return _not_found(request, "no_invite")
    return _calendar(body, 'attachment; filename="invite.ics"')


def routes() -> List[web.AbstractRouteDef]:
    return [
        web.get(urls.route(urls.REP_FEED, token=urls.TOKEN), rep_feed),
        web.get(urls.route(urls.INVITE, token=urls.TOKEN), invite),
    ]
