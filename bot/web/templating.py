"""Pages from Jinja2 templates (bot/web/templates/, autoescaping on) and the static files they
link (bot/web/static/), with the content-security policies that go with them.

Every page extends `base.html`: the demo site, the reps' inbox and the unsubscribe pages share
one layout. Stylesheets are files, never inline: each is read and hashed once at start-up; the
hash versions its URL (`/assets/inbox.css?v=…`, cached for a year) and is its subresource
integrity, so the private pages' policy can forbid inline styles and scripts altogether.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Mapping

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.booking.availability import format_slot
from bot.scoring.rules import SCORE_MAX
from bot.web import urls

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
MESSAGES = "messages.txt"  # what routes say outside a page's own words (Pages.say, .notice)
STATIC = HERE / "static"
CONTENT_TYPES = {
    ".css": "text/css",
    ".js": "application/javascript",  # the live handoff view (bot/web/handoff.py)
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

# Reps' pages and unsubscribe pages: no script at all, only our stylesheets, forms post here.
PRIVATE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}


@dataclass(frozen=True)
class Asset:
    """A static file, read and hashed at start-up."""

    name: str
    body: bytes
    content_type: str
    sha256: bytes

    @property
    def version(self) -> str:
        return self.sha256.hex()[:16]

    @property
    def url(self) -> str:
        return urls.path(urls.ASSET, name=self.name) + "?v=" + self.version

    @property
    def integrity(self) -> str:
        return "sha256-" + base64.b64encode(self.sha256).decode("ascii")


def load_assets(folder: Path = STATIC) -> Dict[str, Asset]:
    assets = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            body = path.read_bytes()
            assets[path.name] = Asset(
                path.name, body, CONTENT_TYPES[path.suffix], hashlib.sha256(body).digest()
            )
    return assets


# -- filters ----------------------------------------------------------------------------------


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return (
            value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        )
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
        except ValueError:
            return None
    return None


def iso_utc(value: Any) -> str:
    moment = _utc(value)
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


def slot_time(value: Any, zone: str | None = None) -> str:
    """A moment in `zone` (or UTC), worded as meeting times are everywhere."""
    moment = _utc(value)
    return format_slot(moment, zone) if moment else ""


def utc_format(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    moment = _utc(value)
    return f"{moment.strftime(pattern)} UTC" if moment else ""


def dash(value: Any) -> Any:
    """None and empty text show as a dash."""
    return "–" if value is None or value == "" else value


def words(value: Any) -> str:
    """An enum or code as words: "sales_qualified" -> "sales qualified"."""
    return str(getattr(value, "value", value) or "").replace("_", " ")


def points(value: Any) -> str:
    return f"{value:+d}" if isinstance(value, int) else str(value or "")


def safe_scheme(url: Any) -> bool:
    """Whether a visitor-supplied URL may become a link (http/https only)."""
    return isinstance(url, str) and url.split(":", 1)[0].lower() in ("http", "https")


class Pages:
    """The template environment and the static files, made once per web process."""

    def __init__(self, templates: Path = TEMPLATES, static: Path = STATIC) -> None:
        self.assets = load_assets(static)
        self.env = Environment(
            loader=FileSystemLoader(str(templates)),
            # Pages are HTML, escaped; `.txt` macro files hold plain words (`words`) that a page
            # or a JSON answer escapes where it shows them.
            autoescape=select_autoescape(
                enabled_extensions=("html",), disabled_extensions=("txt",), default=True
            ),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(asset=self.asset, urls=urls, score_max=SCORE_MAX)
        self.env.filters.update(
            iso_utc=iso_utc,
            slot_time=slot_time,
            utc=utc_format,
            dash=dash,
            words=words,
            points=points,
        )
        self.env.tests["linkable"] = safe_scheme

    def words(self, template: str, macro: str, **values: Any) -> str:
        """Plain words from a `.txt` macro file (one macro a piece of words), for what a route
        says outside a page: transcript labels in JSON, a message page's title and text."""
        return str(getattr(self.env.get_template(template).module, macro)(**values))

    def asset(self, name: str) -> Asset:
        return self.assets[name]

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def private(
        self,
        template: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> web.Response:
        """A page for one person (a rep, or a visitor's unsubscribe link): never cached,
        never indexed, no referrer (its URL may carry a token), no script."""
        return web.Response(
            text=self.render(template, **context),
            status=status,
            content_type="text/html",
            charset="utf-8",
            headers={**PRIVATE_HEADERS, "Content-Security-Policy": PRIVATE_CSP, **(headers or {})},
        )

    def message(
        self, title: str, message: str, status: int, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        return self.private("message.html", status, headers, title=title, message=message)

    def say(self, name: str, **values: Any) -> str:
        """A route's words (messages.txt's macro `name`): an error above a form, a 404's text."""
        return self.words(MESSAGES, name, **values)

    def notice(
        self, name: str, status: int, headers: Mapping[str, str] | None = None, **values: Any
    ) -> web.Response:
        """The message page `name` of messages.txt: its `<name>_title` and `<name>` macros."""
        return self.message(self.say(name + "_title"), self.say(name, **values), status, headers)


async def asset_handler(request: web.Request) -> web.Response:
    """GET /assets/{name}: a static file; cached for a year when asked for by its version."""
    pages: Pages = request.app[PAGES_KEY]
    asset = pages.assets.get(request.match_info["name"])
    if asset is None:
        raise web.HTTPNotFound()
    fresh = request.query.get("v") == asset.version
    return web.Response(
        body=asset.body,
        content_type=asset.content_type,
        charset="utf-8" if asset.content_type.startswith("text/") else None,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable"
            if fresh
            else "public, max-age=300",
            "ETag": '"' + asset.version + '"',
        },
    )


PAGES_KEY = web.AppKey("pages", Pages)
