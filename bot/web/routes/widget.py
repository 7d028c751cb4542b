"""What a site embedding the chat talks to: `/widget.js`, the chat pass-through to the Rasa
server's widget channel (`/webhooks/widget/webhook`, and `/webhooks/widget/session` that starts
a visitor session; POST and the CORS preflight) and `/health`.

The Rasa server decides CORS, rate limits and validation (rasa_ext/widget_channel.py) whichever
way a request came, so a site can point the widget's `data-server` at this process, which
serves `widget.js` too, and talk to one origin. The pass-through adds the client's address to
`X-Forwarded-For`, so the channel's per-address limits count the visitor, not this process
(which must therefore be in the Rasa server's TRUSTED_PROXIES; 127.0.0.1 is by default).
"""

from __future__ import annotations

import hashlib
from typing import Dict, List

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.config.settings import PROJECT_ROOT, Settings
from bot.edge.address import forward_header
from bot.web import urls
from bot.web.context import SETTINGS_KEY

WIDGET_DIR = PROJECT_ROOT / "widget"
CHAT_TIMEOUT_S = 60  # longer than the widget's own request timeout, so the widget decides
MAX_CHAT_BODY = 64 * 1024
WIDGET_MAX_AGE_S = 300  # widget.js changes with releases; revalidated (ETag) after 5 minutes

# What the Rasa server decides about a widget request, passed back to the browser as it is.
PASSED_HEADERS = {
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "vary",
    "retry-after",
    "content-type",
    "cache-control",
}
FORWARDED_HEADERS = {
    "origin",
    "content-type",
    "access-control-request-method",
    "access-control-request-headers",
}

CLIENT_KEY = web.AppKey("client", ClientSession)


async def widget_js(request: web.Request) -> web.StreamResponse:
    body = (WIDGET_DIR / "widget.js").read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    headers = {
        "Cache-Control": f"public, max-age={WIDGET_MAX_AGE_S}, must-revalidate",
        "ETag": etag,
        # Loaded by other sites' pages: allow it under their Cross-Origin-Embedder-Policy.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body, content_type="application/javascript", charset="utf-8", headers=headers
    )


async def health(request: web.Request) -> web.Response:
    """The web process is up; `chat` says whether the Rasa server answers behind it."""
    settings = request.app[SETTINGS_KEY]
    chat = "ok"
    try:
        async with request.app[CLIENT_KEY].get(
            f"{settings.rasa_url}{urls.CHAT_STATUS}", timeout=ClientTimeout(total=2)
        ) as upstream:
            chat = "ok" if upstream.status == 200 else f"http_{upstream.status}"
    except (ClientError, TimeoutError):
        chat = "unreachable"
    return web.json_response({"status": "ok", "chat": chat})


async def chat_proxy(request: web.Request) -> web.StreamResponse:
    """Pass a widget request through to the Rasa server's widget channel, as it came."""
    settings = request.app[SETTINGS_KEY]
    if request.content_length is not None and request.content_length > MAX_CHAT_BODY:
        return web.json_response({"error": "too_large"}, status=413)
    body = await request.read() if request.method == "POST" else b""
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() in FORWARDED_HEADERS and value.isascii() and value.isprintable()
    }
    forwarded = [v for v in request.headers.getall("X-Forwarded-For", []) if v.isascii()]
    headers["X-Forwarded-For"] = forward_header(forwarded, request.remote)
    upstream_path = urls.CHAT_SESSION if request.path == urls.CHAT_SESSION else urls.CHAT
    try:
        async with request.app[CLIENT_KEY].request(
            request.method,
            f"{settings.rasa_url}{upstream_path}",
            data=body or None,
            headers=headers,
            timeout=ClientTimeout(total=CHAT_TIMEOUT_S),
        ) as upstream:
            payload = await upstream.read()
            passed = {
                name: value
                for name, value in upstream.headers.items()
                if name.lower() in PASSED_HEADERS
            }
            return web.Response(status=upstream.status, body=payload, headers=passed)
    except (ClientError, TimeoutError):
        return web.json_response(
            {"error": "chat_unavailable", "detail": "the chat server is not reachable"},
            status=502,
            headers=_allow_own_origin(request, settings),
        )


def _allow_own_origin(request: web.Request, settings: Settings) -> Dict[str, str]:
    """CORS headers for errors the web process itself answers (Rasa can't say, it's down)."""
    origin = request.headers.get("Origin", "")
    if origin.lower() in settings.allowed_origins:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {"Vary": "Origin"}


def routes() -> List[web.AbstractRouteDef]:
    return [
        web.get(urls.WIDGET_JS, widget_js),
        web.get(urls.HEALTH, health),
        web.post(urls.CHAT, chat_proxy),
        web.options(urls.CHAT, chat_proxy),
        web.post(urls.CHAT_SESSION, chat_proxy),
        web.options(urls.CHAT_SESSION, chat_proxy),
    ]
