"""The demo site (`/`, `/pricing`, `/privacy`) with the widget on it, and the static files."""

from __future__ import annotations

from typing import Awaitable, Callable, List

from aiohttp import web

from bot.web import urls
from bot.web.context import SETTINGS_KEY
from bot.web.templating import PAGES_KEY, asset_handler

Handler = Callable[[web.Request], Awaitable[web.Response]]
PAGES = {
    urls.HOME: "demo/index.html",
    urls.PRICING: "demo/pricing.html",
    urls.PRIVACY: "demo/privacy.html",
}


def snippet(base_url: str, privacy_url: str) -> str:
    """The one tag a site owner adds (shown on the demo page and in the README)."""
    return (
        f'<script src="{base_url}{urls.WIDGET_JS}" data-server="{base_url}"\n'
        f'        data-title="Acme Pipeline" data-color="#1d4ed8"\n'
        f'        data-privacy-url="{privacy_url}" async></script>'
    )


def page(template: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        settings = request.app[SETTINGS_KEY]
        base_url = settings.public_base_url
        text = request.app[PAGES_KEY].render(
            template,
            base_url=base_url,
            privacy_url=settings.privacy_policy_url,
            consent_version=settings.consent_text_version,
            retention_days=settings.retention_days,
            retention_no_consent_days=settings.retention_no_consent_days,
            privacy_email=settings.privacy_contact_email,
            snippet=snippet(base_url, settings.privacy_policy_url),
        )
        return web.Response(
            text=text,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    return handler


def routes() -> List[web.AbstractRouteDef]:
    return [
        *(web.get(path, page(template)) for path, template in PAGES.items()),
        web.get(urls.route(urls.ASSET, name=urls.ASSET_NAME), asset_handler),
        web.get("/favicon.ico", lambda _: web.Response(status=204)),
    ]
