"""The unsubscribe link in follow-up emails: `GET` asks, `POST` does it. Mail scanners prefetch
links, they don't submit forms; mail clients' one-click unsubscribe (RFC 8058) POSTs too.

The one form here without a CSRF token, on purpose: the one-click POST comes from a mail client
that never saw the page, and the secret token in the URL is what proves the right to it."""

from __future__ import annotations

import asyncio
from typing import List

from aiohttp import web

from bot.web import urls
from bot.web.context import services
from bot.web.templating import PAGES_KEY


def _page(request: web.Request, state: str) -> web.Response:
    return request.app[PAGES_KEY].private(
        "unsubscribe.html",
        status=404 if state == "unknown" else 200,
        state=state,
        token=request.match_info["token"],
    )


async def ask(request: web.Request) -> web.Response:
    nurture = services(request).core.nurture
    found = await asyncio.to_thread(nurture.subscription_state, request.match_info["token"])
    return _page(request, {"active": "ask", "unsubscribed": "done"}.get(found, "unknown"))


async def unsubscribe(request: web.Request) -> web.Response:
    nurture = services(request).core.nurture
    done = await asyncio.to_thread(nurture.unsubscribe, request.match_info["token"])
    return _page(request, "done" if done else "unknown")


def routes() -> List[web.AbstractRouteDef]:
    path = urls.route(urls.UNSUBSCRIBE, token=urls.TOKEN)
    return [web.get(path, ask), web.post(path, unsubscribe)]
