"""The reps' inbox, calendar feeds, invites and unsubscribe links, mounted on the web process.

bot/web/app.py calls `setup_routes(app, settings)` when this module exists. Routes:

- `GET /inbox` (INBOX_TOKEN, as `?token=` or `Authorization: Bearer`): upcoming meetings, recent
  leads with answers and score breakdown, each rep's calendar feed URL. Empty INBOX_TOKEN: 404.
- `GET /inbox/leads/{conversation_id}`: one lead and its conversation (Rasa's SQL tracker store).
- `GET /inbox/leads.json`, `GET /inbox/leads.csv`: exports of recent leads.
- `GET /reps/{token}.ics`: a rep's subscribable feed; the token is an HMAC of the rep's email.
- `GET /invite/{token}.ics`: the visitor's own invite.
- `GET /unsubscribe/{token}` asks, `POST` does it: mail scanners prefetch links, they don't
  submit forms; mail clients' one-click unsubscribe (RFC 8058) POSTs too.

Every page is server-rendered with every value escaped (visitor data may hold markup), no script
at all (the CSP allows none), `no-store` and `no-referrer` (URLs carry tokens). The database
work runs in threads so the event loop keeps serving the widget. Nothing personal is logged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Sequence, Tuple
from urllib.parse import quote, urlsplit

from aiohttp import web
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.booking.availability import format_slot
from bot.booking.reps import RepsConfig
from bot.booking.service import BookingService
from bot.clock import utc_now
from bot.config.settings import Settings
from bot.conversation.questions import QUESTIONS
from bot.leads.store import LeadStore
from bot.nurture.service import NurtureService
from bot.scoring.rules import SCORE_MAX
from bot.services import Services as CoreServices
from bot.services import build_services
from bot.storage.engine import make_session_factory, unit_of_work
from bot.storage.enums import EnrollmentStatus
from bot.storage.models import NurtureEnrollment
from bot.web.inbox_data import (
    check_token,
    leads_csv,
    recent_leads,
    rep_feed_token,
    rep_for_feed_token,
    resolve_secret_key,
    transcript,
    upcoming_meetings,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

PAGE_LEADS = 50  # leads on the inbox page; exports take ?limit= up to EXPORT_MAX
EXPORT_DEFAULT = 500
EXPORT_MAX = 10_000
TRANSCRIPT_MAX_EVENTS = 5_000  # a long conversation is a few hundred; this bounds the page
TOKEN_PATTERN = "[A-Za-z0-9_-]{1,128}"  # url-safe tokens (invite, unsubscribe, feed)

STYLE = """
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
body { margin: 0; color: #1f2937; background: #f8fafc; line-height: 1.5; }
a { color: #1d4ed8; }
a:focus-visible, summary:focus-visible, button:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -10000px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header, main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline;
  justify-content: space-between; }
h1 { font-size: 1.5rem; margin: 0; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #cbd5e1; }
h3, article h2 { font-size: 1.1rem; margin: 0 0 .5rem; border: 0; }
nav ul { list-style: none; display: flex; gap: 1rem; margin: 0; padding: 0; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #cbd5e1; padding: .35rem .5rem; text-align: left;
  vertical-align: top; }
th { background: #eef2f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
article { background: #fff; border: 1px solid #cbd5e1; border-radius: .5rem;
  padding: 1rem; margin: 1rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 .5rem; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; background: #e2e8f0; }
.badge.alert { background: #fde68a; color: #78350f; font-weight: 600; }
.muted { color: #4b5563; }
code { overflow-wrap: anywhere; }
ol.transcript { list-style: none; padding: 0; }
ol.transcript li { margin: .5rem 0; padding: .5rem .75rem; border-radius: .5rem;
  max-width: 48rem; white-space: pre-wrap; overflow-wrap: anywhere; }
ol.transcript li.visitor { background: #dbeafe; margin-left: auto; }
ol.transcript li.bot { background: #fff; border: 1px solid #cbd5e1; }
.who { font-weight: 600; }
button { font: inherit; padding: .5rem 1rem; border-radius: .375rem; border: 0;
  background: #1d4ed8; color: #fff; cursor: pointer; }
.center { max-width: 36rem; }
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# No script at all; only this stylesheet; forms post to this origin only.
PAGE_CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}

QUESTION_LABELS = {
    "name": "Name",
    "email": "Email",
    "role": "Role",
    "company": "Company",
    "company_size": "Company size",
    "budget": "Budget",
    "timeline": "Timeline",
}
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


# -- services ---------------------------------------------------------------------------------


class TrackerEvents:
    """Reads one conversation's events from Rasa's SQL tracker store (table `events`)."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def _connect(self) -> Engine | None:
        if self._url.get_backend_name() == "sqlite":
            database = self._url.database or ""
            # Reading must not create an empty tracker file (Rasa creates its own).
            if database in ("", ":memory:") or not Path(database).exists():
                return None
        with self._lock:
            if self._engine is None:
                # A plain engine: the tracker store is Rasa's; no pragmas changed on its file.
                self._engine = create_engine(
                    self._url, future=True, pool_pre_ping=True, hide_parameters=True
                )
            return self._engine

    def events(self, sender_id: str) -> List[Dict[str, Any]] | None:
        """The user/bot event dicts in order; [] if none; None if the store can't be read."""
        engine = self._connect()
        if engine is None:
            return []
        query = text(
            "SELECT data FROM events WHERE sender_id = :sender AND type_name IN ('user', 'bot') "
            "ORDER BY timestamp LIMIT :limit"
        )
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    query, {"sender": sender_id, "limit": TRANSCRIPT_MAX_EVENTS}
                ).all()
        except SQLAlchemyError as error:  # no `events` table yet, or the store is down
            logger.warning(
                "Tracker store not readable for a transcript (%s).", type(error).__name__
            )
            return None
        result = []
        for (data,) in rows:
            try:
                event = json.loads(data) if isinstance(data, (str, bytes)) else None
            except ValueError:
                continue
            if isinstance(event, dict):
                result.append(event)
        return result

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@dataclass
class Services:
    """What the routes use, made once at startup (engines, config files) and closed at cleanup."""

    core: CoreServices
    sessions: sessionmaker
    tracker: TrackerEvents
    _secret: bytes | None = None
    _secret_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, settings: Settings, clock: Clock) -> Services:
        core = build_services(settings, clock)
        return cls(
            core=core,
            sessions=make_session_factory(core.engine),
            tracker=TrackerEvents(settings.tracker_store_url),
        )

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @property
    def clock(self) -> Clock:
        return self.core.clock

    @property
    def reps(self) -> RepsConfig:
        return self.core.reps

    @property
    def leads(self) -> LeadStore:
        return self.core.leads

    @property
    def booking(self) -> BookingService:
        return self.core.booking

    @property
    def nurture(self) -> NurtureService:
        return self.core.nurture

    def secret(self) -> bytes:
        """SECRET_KEY (or its file), resolved on first use: the file may be created then."""
        with self._secret_lock:
            if self._secret is None:
                self._secret = resolve_secret_key(
                    self.settings.secret_key, self.settings.secret_key_file
                )
            return self._secret

    def feed_url(self, rep_email: str) -> str:
        return self.core.urls.rep_feed(rep_feed_token(self.secret(), rep_email))

    def close(self) -> None:
        self.tracker.close()
        self.core.close()


class _Holder:
    """Filled at startup (the app's state can't change once it runs)."""

    services: Services | None = None


HOLDER_KEY = web.AppKey("inbox_services", _Holder)
SETTINGS_KEY = web.AppKey("inbox_settings", Settings)
# Tests (and nothing else) may set a clock before startup; default: the real time.
CLOCK_KEY = web.AppKey("inbox_clock", Callable[[], datetime])  # type: ignore[arg-type]


def _services(request: web.Request) -> Services:
    services = request.app[HOLDER_KEY].services
    if services is None:  # pragma: no cover - only before startup
        raise web.HTTPServiceUnavailable()
    return services


async def _lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
    clock = app.get(CLOCK_KEY, utc_now)
    services = await asyncio.to_thread(Services.create, app[SETTINGS_KEY], clock)
    app[HOLDER_KEY].services = services
    yield
    app[HOLDER_KEY].services = None
    services.close()


# -- HTML -------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    """Text for HTML, attributes included; None shows as a dash."""
    return "–" if value is None or value == "" else html.escape(str(value), quote=True)


def _document(title: str, body: str, header: str = "") -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        '<a class="skip" href="#main">Skip to content</a>'
        f'{header}<main id="main">{body}</main></body></html>'
    )


def _html(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        text=body,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={**PRIVATE_HEADERS, "Content-Security-Policy": PAGE_CSP, **(headers or {})},
    )


def _message_page_html(title: str, message: str) -> str:
    return _document(title, f'<div class="center"><h1>{esc(title)}</h1><p>{esc(message)}</p></div>')


def _message_page(
    title: str, message: str, status: int, headers: Mapping[str, str] | None = None
) -> web.Response:
    return _html(_message_page_html(title, message), status, headers)


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None


def _time_element(value: str | None, label: Callable[[datetime], str], empty: str) -> str:
    """A <time> element showing `label(moment)`, machine-readable in UTC."""
    moment = _parse_iso(value)
    if moment is None:
        return empty
    iso = moment.isoformat().replace("+00:00", "Z")
    return f'<time datetime="{esc(iso)}">{esc(label(moment))}</time>'


def _time(value: str | None, zone: str | None = None) -> str:
    """The moment in `zone` (or UTC)."""
    return _time_element(value, lambda moment: format_slot(moment, zone), "–")


def _utc_day(value: str | None) -> str:
    return _time_element(value, lambda moment: f"{moment:%Y-%m-%d %H:%M} UTC", "–")


def _utc_time(value: str | None) -> str:
    return _time_element(value, lambda moment: f"{moment:%Y-%m-%d %H:%M:%S} UTC", "")


def _safe_link(url: Any) -> str:
    """A visitor-supplied URL: a link only for http(s), else text; never followed with referrer."""
    if not isinstance(url, str) or not url:
        return "–"
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return f'<a href="{esc(url)}" rel="noopener noreferrer nofollow">{esc(url)}</a>'
    return esc(url)


def _with_token(path: str, token: str | None) -> str:
    return f"{path}?token={quote(token, safe='')}" if token else path


def _lead_path(conversation_id: str, token: str | None) -> str:
    return _with_token(f"/inbox/leads/{quote(conversation_id, safe='')}", token)


def _understood(lead: Mapping[str, Any], slot: str) -> Any:
    """What the bot made of an answer, as stored on the lead."""
    if slot == "role":
        role, seniority = lead.get("role"), lead.get("seniority")
        return f"{role} ({seniority})" if role and seniority else role
    if slot == "company_size":
        size = lead.get("company_size")
        return f"{size:,} employees" if isinstance(size, int) else None
    if slot == "budget":
        budget = lead.get("budget_usd")
        return f"${budget:,} a year" if isinstance(budget, int) else None
    if slot == "timeline":
        months = lead.get("timeline_months")
        if months == 0:
            return "now"
        return f"in {months} months" if isinstance(months, int) else None
    return lead.get(slot)


def _tier_label(tier: Any) -> str:
    return str(tier).replace("_", " ") if tier else ""


def _lead_article(
    lead: Mapping[str, Any], reps: RepsConfig, token: str | None, heading: str = "h3"
) -> str:
    cid = str(lead.get("conversation_id") or "")
    anchor = "lead-" + hashlib.sha256(cid.encode()).hexdigest()[:12]
    name = lead.get("name") or "Unnamed visitor"
    score = lead.get("score")
    score_text = (
        f'{esc(score)}/{SCORE_MAX} <span class="badge">{esc(_tier_label(lead.get("tier")))}</span>'
        if score is not None
        else "not scored yet"
    )
    needs_human = (
        '<span class="badge alert">Yes: asked for a person</span>'
        if lead.get("needs_human")
        else "No"
    )
    rep = reps.rep(lead["rep_email"]) if lead.get("rep_email") else None
    meeting = (
        f"{_time(lead.get('meeting_start'), rep.timezone if rep else None)} "
        f"({_time(lead.get('meeting_start'))})"
        if lead.get("meeting_start")
        else "–"
    )
    source = lead.get("source") or {}
    utm = ", ".join(f"{key[4:]}={source[key]}" for key in UTM_KEYS if source.get(key))
    rows: List[Tuple[str, str]] = [
        ("Email", esc(lead.get("email"))),
        ("Company", esc(lead.get("company"))),
        ("Role", esc(_understood(lead, "role"))),
        ("Company size", esc(_understood(lead, "company_size"))),
        ("Budget", esc(_understood(lead, "budget"))),
        ("Timeline", esc(_understood(lead, "timeline"))),
        ("Score", score_text),
        ("Outcome", esc(str(lead.get("outcome") or "").replace("_", " "))),
        ("Meeting", meeting),
        ("Rep", esc(rep.name if rep else lead.get("rep_email"))),
        ("Needs a person", needs_human),
        ("Source page", _safe_link(lead.get("source_page") or source.get("page_url"))),
        ("Referrer", _safe_link(source.get("referrer"))),
        ("UTM", esc(utm)),
        ("Started", _utc_day(lead.get("created_at"))),
    ]
    details = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    answers: Mapping[str, Mapping[str, Any]] = lead.get("answers") or {}
    slots = [slot for slot in QUESTIONS if slot in answers] + [
        slot for slot in answers if slot not in QUESTIONS
    ]
    answer_rows = "".join(
        f'<tr><th scope="row">{esc(QUESTION_LABELS.get(slot, slot))}</th>'
        f"<td>{esc(answers[slot].get('text'))}</td><td>{esc(_understood(lead, slot))}</td>"
        f"<td>{esc(answers[slot].get('status'))}</td></tr>"
        for slot in slots
    )
    answers_table = (
        f'<table><caption>Answers: {esc(name)}</caption><thead><tr><th scope="col">Question'
        '</th><th scope="col">Typed</th><th scope="col">Understood as</th>'
        f'<th scope="col">Status</th></tr></thead><tbody>{answer_rows}</tbody></table>'
        if answer_rows
        else '<p class="muted">No answers yet.</p>'
    )
    breakdown: Sequence[Mapping[str, Any]] = lead.get("score_breakdown") or []
    hit_rows = "".join(
        f"<tr><td><code>{esc(hit.get('rule'))}</code></td>"
        f'<td class="num">{esc(_points(hit.get("points")))}</td>'
        f"<td>{esc(hit.get('reason'))}</td></tr>"
        for hit in breakdown
        if isinstance(hit, Mapping)
    )
    breakdown_table = (
        f"<table><caption>Score breakdown: {esc(name)}</caption><thead><tr>"
        '<th scope="col">Rule</th><th scope="col">Points</th><th scope="col">Reason</th>'
        f"</tr></thead><tbody>{hit_rows}</tbody></table>"
        if hit_rows
        else ""
    )
    link = (
        f'<p><a href="{esc(_lead_path(cid, token))}">Conversation transcript'
        f'<span class="skip"> of {esc(name)}</span></a></p>'
        if heading == "h3"
        else ""
    )
    return (
        f'<article aria-labelledby="{anchor}">'
        f'<{heading} id="{anchor}">{esc(name if heading == "h3" else "Details")}</{heading}>'
        f"<dl>{details}</dl>{answers_table}{breakdown_table}{link}</article>"
    )


def _points(value: Any) -> str:
    return f"{value:+d}" if isinstance(value, int) else str(value or "")


def _header(token: str | None) -> str:
    links = [
        ("/inbox", "Inbox"),
        ("/inbox/leads.csv", "Export CSV"),
        ("/inbox/leads.json", "Export JSON"),
    ]
    items = "".join(f'<li><a href="{esc(_with_token(p, token))}">{t}</a></li>' for p, t in links)
    nav = f'<nav aria-label="Inbox"><ul>{items}</ul></nav>'
    return f'<header><p class="muted">Leadbot</p>{nav}</header>'


def render_inbox(
    meetings: Sequence[Mapping[str, Any]],
    leads: Sequence[Mapping[str, Any]],
    reps: RepsConfig,
    feeds: Sequence[Tuple[str, str, str, str]],
    token: str | None,
) -> str:
    """The inbox page (pure: the data in, HTML out)."""
    meeting_rows = []
    for meeting in meetings:
        rep = reps.rep(meeting["rep_email"])
        name = meeting.get("name") or "Unnamed visitor"
        meeting_rows.append(
            "<tr>"
            f"<td>{_time(meeting.get('start_utc'), rep.timezone if rep else None)}</td>"
            f"<td>{_time(meeting.get('start_utc'))}</td>"
            f"<td>{esc(rep.name if rep else meeting.get('rep_email'))}</td>"
            f'<td><a href="{esc(_lead_path(meeting["conversation_id"], token))}">{esc(name)}</a>'
            "</td>"
            f"<td>{esc(meeting.get('company'))}</td><td>{esc(meeting.get('email'))}</td>"
            f'<td class="num">{esc(meeting.get("score"))}</td>'
            f"<td>{_time(meeting.get('start_utc'), meeting.get('visitor_tz'))}</td>"
            "</tr>"
        )
    meetings_html = (
        "<table><caption>Meetings that have not ended yet, soonest first</caption><thead><tr>"
        '<th scope="col">When (rep\'s time)</th><th scope="col">UTC</th>'
        '<th scope="col">Rep</th><th scope="col">Lead</th><th scope="col">Company</th>'
        '<th scope="col">Email</th><th scope="col">Score</th>'
        '<th scope="col">Visitor\'s time</th></tr></thead>'
        f"<tbody>{''.join(meeting_rows)}</tbody></table>"
        if meeting_rows
        else '<p class="muted">No upcoming meetings.</p>'
    )
    leads_html = (
        "".join(_lead_article(lead, reps, token) for lead in leads)
        if leads
        else '<p class="muted">No leads yet.</p>'
    )
    feed_rows = "".join(
        f"<tr><td>{esc(name)}</td><td>{esc(email)}</td><td>{esc(zone)}</td>"
        f'<td><code><a href="{esc(url)}">{esc(url)}</a></code></td></tr>'
        for name, email, zone, url in feeds
    )
    body = (
        "<h1>Inbox</h1>"
        '<section aria-labelledby="meetings"><h2 id="meetings">Upcoming meetings</h2>'
        f"{meetings_html}</section>"
        f'<section aria-labelledby="leads"><h2 id="leads">Recent leads ({len(leads)})</h2>'
        f"{leads_html}</section>"
        '<section aria-labelledby="feeds"><h2 id="feeds">Calendar feeds</h2>'
        "<p>Subscribe to your feed to see your booked meetings in your calendar: in Google "
        "Calendar, <em>Other calendars → From URL</em>; in Outlook, <em>Add calendar → "
        "Subscribe from web</em>. Each link is personal: don't share it.</p>"
        '<table><caption>One feed per rep</caption><thead><tr><th scope="col">Rep</th>'
        '<th scope="col">Email</th><th scope="col">Time zone</th><th scope="col">Feed URL</th>'
        f"</tr></thead><tbody>{feed_rows}</tbody></table></section>"
    )
    return _document("Leadbot inbox", body, _header(token))


def render_lead(
    lead: Mapping[str, Any],
    lines: Sequence[Tuple[str, str, str | None]] | None,
    reps: RepsConfig,
    token: str | None,
) -> str:
    """One lead and its conversation (None: the tracker store could not be read)."""
    name = lead.get("name") or "Unnamed visitor"
    if lines is None:
        conversation = '<p class="muted">The conversation store is not available right now.</p>'
    elif not lines:
        conversation = '<p class="muted">No messages stored for this conversation.</p>'
    else:
        items = "".join(
            f'<li class="{"visitor" if who == "visitor" else "bot"}">'
            f'<span class="who">{"Visitor" if who == "visitor" else "Bot"}</span>'
            + (f' <span class="muted">{_utc_time(at)}</span>' if at else "")
            + f"\n{esc(message)}</li>"
            for who, message, at in lines
        )
        conversation = f'<ol class="transcript" aria-label="Messages">{items}</ol>'
    body = (
        f"<h1>{esc(name)}</h1>"
        f"{_lead_article(lead, reps, token, heading='h2')}"
        '<section aria-labelledby="conversation"><h2 id="conversation">Conversation</h2>'
        f"{conversation}</section>"
    )
    return _document(f"{name}: Leadbot inbox", body, _header(token))


def render_unsubscribe(token: str, state: str) -> Tuple[str, int]:
    """The unsubscribe page for `state`: ask | done | already | unknown."""
    if state == "unknown":
        title = "This link doesn't work any more"
        text_ = (
            "We couldn't find a subscription for this link. If you keep getting our emails, "
            "reply to one of them and we'll take you off the list."
        )
        return _message_page_html(title, text_), 404
    if state in ("done", "already"):
        title = "You're unsubscribed"
        text_ = "You won't get any more follow-up emails from us. Thanks for your time."
        return _message_page_html(title, text_), 200
    title = "Unsubscribe from follow-up emails?"
    action = f"/unsubscribe/{quote(token, safe='')}"
    body = (
        f'<div class="center"><h1>{esc(title)}</h1>'
        "<p>You'll stop receiving follow-up emails about your conversation with us.</p>"
        f'<form method="post" action="{esc(action)}"><button type="submit">Unsubscribe</button>'
        "</form></div>"
    )
    return _document(title, body), 200


# -- access -----------------------------------------------------------------------------------


def _given_token(request: web.Request) -> Tuple[str | None, bool]:
    """The token and whether it came in the query (then links on the page must carry it)."""
    query = request.query.get("token")
    if query:
        return query, True
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    return None, False


def _denied(request: web.Request, as_json: bool = False) -> Tuple[web.Response | None, str | None]:
    """(error response or None, token to put in links)."""
    expected = request.app[SETTINGS_KEY].inbox_token
    given, in_query = _given_token(request)
    if not expected:
        title, message, status, extra = (
            "Inbox disabled",
            "The inbox is turned off. Set INBOX_TOKEN to turn it on.",
            404,
            {},
        )
    elif not check_token(given, expected):
        title, message, status = (
            "Not signed in",
            "This page needs the inbox link with its token (or an Authorization: Bearer header).",
            401,
        )
        extra = {"WWW-Authenticate": 'Bearer realm="Leadbot inbox"'}
    else:
        return None, given if in_query else None
    if as_json:
        error = "inbox_disabled" if status == 404 else "unauthorized"
        return web.json_response(
            {"error": error, "detail": message},
            status=status,
            headers={**PRIVATE_HEADERS, **extra},
        ), None
    return _message_page(title, message, status, extra), None


def _limit(request: web.Request) -> int | None:
    try:
        value = int(request.query.get("limit", EXPORT_DEFAULT))
    except ValueError:
        return None
    return value if 1 <= value <= EXPORT_MAX else None


# -- handlers ---------------------------------------------------------------------------------


async def inbox_page(request: web.Request) -> web.Response:
    denied, token = _denied(request)
    if denied is not None:
        return denied
    services = _services(request)

    def load() -> str:
        with unit_of_work(services.sessions) as session:
            meetings = upcoming_meetings(session, services.clock())
            leads = recent_leads(session, PAGE_LEADS)
        feeds = [
            (rep.name, rep.email, rep.timezone, services.feed_url(rep.email))
            for rep in services.reps.reps
        ]
        return render_inbox(meetings, leads, services.reps, feeds, token)

    return _html(await asyncio.to_thread(load))


def _lead_row(services: Services, conversation_id: str) -> Dict[str, Any] | None:
    """One lead in the shape of `recent_leads()` rows."""
    snapshot = services.leads.get(conversation_id)
    if snapshot is None:
        return None
    row = dict(snapshot.fields)
    source = row.get("source") or {}
    row.update(
        needs_human=snapshot.needs_human,
        score_breakdown=row.get("score_breakdown") or [],
        source_page=source.get("page_url"),
        answers={
            slot: {"text": answer.raw_text, "status": answer.status}
            for slot, answer in snapshot.answers.items()
        },
    )
    return row


async def lead_page(request: web.Request) -> web.Response:
    denied, token = _denied(request)
    if denied is not None:
        return denied
    services = _services(request)
    conversation_id = request.match_info["conversation_id"]

    def load() -> str | None:
        lead = _lead_row(services, conversation_id)
        if lead is None:  # no consent, or erased: no lead and nothing to show
            return None
        events = services.tracker.events(conversation_id)
        lines = transcript(events) if events is not None else None
        return render_lead(lead, lines, services.reps, token)

    page = await asyncio.to_thread(load)
    if page is None:
        return _message_page(
            "No such lead", "There is no lead for this conversation (or it was erased).", 404
        )
    return _html(page)


async def _export_rows(request: web.Request) -> Tuple[web.Response | None, List[Dict[str, Any]]]:
    limit = _limit(request)
    if limit is None:
        return web.json_response(
            {"error": "bad_limit", "detail": f"limit must be 1..{EXPORT_MAX}"},
            status=400,
            headers=PRIVATE_HEADERS,
        ), []
    services = _services(request)

    def load() -> List[Dict[str, Any]]:
        with unit_of_work(services.sessions) as session:
            return recent_leads(session, limit)

    return None, await asyncio.to_thread(load)


async def leads_json(request: web.Request) -> web.Response:
    denied, _ = _denied(request, as_json=True)
    if denied is not None:
        return denied
    error, rows = await _export_rows(request)
    return error or web.json_response({"leads": rows}, headers=PRIVATE_HEADERS)


async def leads_csv_export(request: web.Request) -> web.Response:
    denied, _ = _denied(request, as_json=True)
    if denied is not None:
        return denied
    error, rows = await _export_rows(request)
    if error is not None:
        return error
    day = _services(request).clock().strftime("%Y%m%d")
    return web.Response(
        text=leads_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={
            **PRIVATE_HEADERS,
            "Content-Disposition": f'attachment; filename="leads-{day}.csv"',
        },
    )


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


def _not_found_plain(message: str) -> web.Response:
    return web.Response(text=message + "\n", status=404, headers=PRIVATE_HEADERS)


async def rep_feed(request: web.Request) -> web.Response:
    services = _services(request)
    token = request.match_info["token"]

    def load() -> str | None:
        rep = rep_for_feed_token(services.secret(), services.reps, token)
        return services.booking.rep_feed_ics(rep.email) if rep is not None else None

    body = await asyncio.to_thread(load)
    if body is None:
        return _not_found_plain("No calendar feed for this link.")
    return _calendar(body, 'inline; filename="meetings.ics"')


async def invite(request: web.Request) -> web.Response:
    services = _services(request)
    body = await asyncio.to_thread(services.booking.invite_ics, request.match_info["token"])
    if body is None:
        return _not_found_plain("No meeting for this link.")
    return _calendar(body, 'attachment; filename="invite.ics"')


def _enrollment_state(services: Services, token: str) -> str:
    """ask | already | unknown, without changing anything (GET must not unsubscribe)."""
    with unit_of_work(services.sessions) as session:
        row = session.execute(
            select(NurtureEnrollment.status, NurtureEnrollment.stop_reason).where(
                NurtureEnrollment.unsubscribe_token == token
            )
        ).first()
    if row is None:
        return "unknown"
    status, reason = row
    return "already" if status == EnrollmentStatus.STOPPED and reason == "unsubscribed" else "ask"


async def unsubscribe_form(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    state = await asyncio.to_thread(_enrollment_state, _services(request), token)
    page, status = render_unsubscribe(token, state)
    return _html(page, status)


async def unsubscribe(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    done = await asyncio.to_thread(_services(request).nurture.unsubscribe, token)
    page, status = render_unsubscribe(token, "done" if done else "unknown")
    return _html(page, status)


# -- mounting ---------------------------------------------------------------------------------


def routes() -> Iterable[web.AbstractRouteDef]:
    return [
        web.get("/inbox", inbox_page),
        web.get("/inbox/leads.json", leads_json),
        web.get("/inbox/leads.csv", leads_csv_export),
        web.get("/inbox/leads/{conversation_id:.+}", lead_page),
        web.get("/reps/{token:" + TOKEN_PATTERN + "}.ics", rep_feed),
        web.get("/invite/{token:" + TOKEN_PATTERN + "}.ics", invite),
        web.get("/unsubscribe/{token:" + TOKEN_PATTERN + "}", unsubscribe_form),
        web.post("/unsubscribe/{token:" + TOKEN_PATTERN + "}", unsubscribe),
    ]


def setup_routes(app: web.Application, settings: Settings) -> None:
    """Mount the inbox, feeds, invites and unsubscribe on `app` (called by bot/web/app.py).

    Nothing is opened here: the engines and config files are loaded at the app's startup
    (a broken reps or nurture file stops the web process with the line at fault).
    """
    app[SETTINGS_KEY] = settings
    app[HOLDER_KEY] = _Holder()
    app.cleanup_ctx.append(_lifecycle)
    app.add_routes(list(routes()))
