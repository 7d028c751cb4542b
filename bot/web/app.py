"""The web process (`python -m bot web`, started by `python -m bot serve` on WEB_PORT).

Serves what browsers load: the chat widget (`/widget.js`, one file from `widget/`), a demo
landing page with the widget on it (`/`, `/pricing`), the privacy policy linked from the consent
question (`/privacy`) and `/health`. It also passes the widget's chat requests
(`/webhooks/widget/webhook`, POST and the CORS preflight) through to the Rasa server's widget
channel unchanged, so a site can point the widget's `data-server` at this process, which serves
`widget.js` too, and talk to one origin; the Rasa server decides CORS, rate limits and validation
(rasa_ext/widget_channel.py) whichever way the request came. Plain aiohttp: no Rasa import here.
"""

from __future__ import annotations

import hashlib
import html
from string import Template
from typing import Awaitable, Callable, Dict, Iterable

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.config.settings import PROJECT_ROOT, Settings, origin_of
from bot.web import inbox

WIDGET_DIR = PROJECT_ROOT / "widget"
CHAT_PATH = "/webhooks/widget/webhook"
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
}

SETTINGS_KEY = web.AppKey("settings", Settings)
CLIENT_KEY = web.AppKey("client", ClientSession)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def page_csp(settings: Settings) -> str:
    """Content-Security-Policy for our own pages: only our scripts, chat to our origins."""
    connect = " ".join(
        dict.fromkeys(["'self'", origin_of(settings.public_base_url), rasa_url(settings)])
    )
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; connect-src {connect}; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'; object-src 'none'"
    )


def rasa_url(settings: Settings) -> str:
    """The Rasa server, or the load balancer in front of its replicas (RASA_URL)."""
    return settings.rasa_url


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
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", page_csp(request.app[SETTINGS_KEY]))
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def render_page(name: str, settings: Settings) -> str:
    """A demo page from widget/demo/, with the snippet pointing at this deployment."""
    template = Template((WIDGET_DIR / "demo" / name).read_text(encoding="utf-8"))
    base = settings.public_base_url
    return template.safe_substitute(
        base_url=html.escape(base, quote=True),
        privacy_url=html.escape(settings.privacy_policy_url, quote=True),
        consent_version=html.escape(settings.consent_text_version),
        snippet=html.escape(snippet(base, settings.privacy_policy_url)),
    )


def snippet(base_url: str, privacy_url: str) -> str:
    """The one tag a site owner adds (shown on the demo page and in the README)."""
    return (
        f'<script src="{base_url}/widget.js" data-server="{base_url}"\n'
        f'        data-title="Acme Pipeline" data-color="#1d4ed8"\n'
        f'        data-privacy-url="{privacy_url}" async></script>'
    )


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


def page(name: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            text=render_page(name, request.app[SETTINGS_KEY]),
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    return handler


async def stylesheet(request: web.Request) -> web.Response:
    return web.Response(
        text=(WIDGET_DIR / "demo" / "site.css").read_text(encoding="utf-8"),
        content_type="text/css",
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


async def health(request: web.Request) -> web.Response:
    """The web process is up; `chat` says whether the Rasa server answers behind it."""
    settings = request.app[SETTINGS_KEY]
    chat = "ok"
    try:
        async with request.app[CLIENT_KEY].get(
            f"{rasa_url(settings)}/webhooks/widget/", timeout=ClientTimeout(total=2)
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
        if name.lower()
        in {
            "origin",
            "content-type",
            "access-control-request-method",
            "access-control-request-headers",
        }
    }
    try:
        async with request.app[CLIENT_KEY].request(
            request.method,
            f"{rasa_url(settings)}{CHAT_PATH}",
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


async def _client(app: web.Application):  # type: ignore[no-untyped-def]
    app[CLIENT_KEY] = ClientSession()
    yield
    await app[CLIENT_KEY].close()


def create_app(
    settings: Settings, extra_routes: Iterable[web.AbstractRouteDef] = ()
) -> web.Application:
    """The web process's application. `extra_routes` are mounted as they are."""
    app = web.Application(middlewares=[security_headers], client_max_size=MAX_CHAT_BODY)
    app[SETTINGS_KEY] = settings
    app.cleanup_ctx.append(_client)
    app.add_routes(
        [
            web.get("/", page("index.html")),
            web.get("/pricing", page("pricing.html")),
            web.get("/privacy", page("privacy.html")),
            web.get("/assets/site.css", stylesheet),
            web.get("/widget.js", widget_js),
            web.get("/health", health),
            web.get("/favicon.ico", lambda _: web.Response(status=204)),
            web.post(CHAT_PATH, chat_proxy),
            web.options(CHAT_PATH, chat_proxy),
        ]
    )
    inbox.setup_routes(app, settings)
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
