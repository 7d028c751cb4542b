"""The web process (`python -m bot web`, started by `python -m bot serve` on WEB_PORT).

Serves what browsers load: the chat widget and its pass-through to the Rasa server, the demo
site, the reps' inbox and downloads, calendar feeds and invites, unsubscribe pages and
`/health`. Routes live in bot/web/routes/ (one module per area), pages in bot/web/templates/,
styles in bot/web/static/, every path in bot/web/urls.py. Plain aiohttp: no Rasa import here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator, Awaitable, Callable, Iterable

from aiohttp import ClientSession, web

from bot.config.settings import Settings, origin_of
from bot.web import context, handoff
from bot.web.routes import all_routes
from bot.web.routes.widget import CLIENT_KEY, MAX_CHAT_BODY
from bot.web.templating import PAGES_KEY, Pages

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page_csp(settings: Settings) -> str:
    """Content-Security-Policy for the demo site: only our scripts, chat to our origins. The
    widget injects its own styles into its shadow root, hence 'unsafe-inline' for styles here
    (the private pages' policy, in templating.py, allows no inline style)."""
    connect = " ".join(
        dict.fromkeys(["'self'", origin_of(settings.public_base_url), settings.rasa_url])
    )
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; connect-src {connect}; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'; object-src 'none'"
    )


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response = web.json_response(
            {"error": error.reason.lower().replace(" ", "_")}, status=error.status
        )
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as error:  # noqa: BLE001 - the type only: the text may hold personal data
        resource = request.match_info.route.resource
        where = resource.canonical if resource is not None else "?"  # the route, not the URL
        log.error("%s %s failed: %s", request.method, where, type(error).__name__)
        response = web.json_response({"error": "server_error"}, status=500)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.content_type == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy", page_csp(request.app[context.SETTINGS_KEY])
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


async def _client(app: web.Application) -> AsyncIterator[None]:
    app[CLIENT_KEY] = ClientSession()
    yield
    await app[CLIENT_KEY].close()


def create_app(
    settings: Settings, extra_routes: Iterable[web.AbstractRouteDef] = ()
) -> web.Application:
    """The web process's application. `extra_routes` are mounted as they are."""
    app = web.Application(middlewares=[security_headers], client_max_size=MAX_CHAT_BODY)
    context.install(app, settings)
    app[PAGES_KEY] = Pages()
    app.cleanup_ctx.append(_client)
    app.add_routes(all_routes())
    handoff.install(app)
    app.add_routes(list(extra_routes))
    return app


def run(settings: Settings) -> None:
    print(
        f"Leadbot web: {settings.public_base_url} (widget.js, demo page, /health) "
        f"on {settings.host}:{settings.web_port}",
        flush=True,
    )
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.web_port,
        print=None,
        access_log=None,  # page URLs can carry personal data (UTM, e-mail links): not logged
    )
