"""The web process's routes, one module per area; every path comes from bot/web/urls.py."""

from __future__ import annotations

from typing import List

from aiohttp import web

from bot.web.routes import (
    demo,
    exports,
    feeds,
    funnel,
    inbox,
    login,
    meetings,
    unsubscribe,
    widget,
)


def all_routes() -> List[web.AbstractRouteDef]:
    return [
        *demo.routes(),
        *login.routes(),
        *inbox.routes(),
        *funnel.routes(),
        *exports.routes(),
        *feeds.routes(),
        *unsubscribe.routes(),
        *meetings.routes(),
        *widget.routes(),
    ]
