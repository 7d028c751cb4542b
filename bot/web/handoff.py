"""Live handoff in the web process: the reps' "waiting for a person" queue and live conversation
view (take over, write, hand back, close), the widget's long-poll for what a rep writes, and
the clock that tells a visitor when nobody took over in time. Mounted by bot/web/app.py
(`install`).

How the pieces fit:

- The bot's silence is Rasa's own: taking over appends a `pause` event to the conversation
  through Rasa's HTTP API (RASA_AUTH_TOKEN), so Rasa still records what the visitor writes but
  predicts nothing, on every channel and replica; handing back appends `resume` and triggers an
  intent so the bot speaks again (the questions resume where the request interrupted them).
- The transcript is the tracker store: a rep's message is appended as a `bot` event whose
  metadata names the rep (the analytics read it as the first human reply), so the inbox, the
  retention/erasure code and the event broker see one conversation with both sides.
- The widget gets what no chat reply carries (a rep's message, what the bot said on a trigger)
  from `handoff_pushes`, long-polling GET /webhooks/widget/events.

The reps' pages are for signed-in reps (bot/web/auth.py); every form carries the CSRF token.
The conversation page runs one script of ours (static/handoff.js: live refresh, sending
without a reload), so its policy allows `script-src 'self'`; the other private pages allow none.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Dict, List, Mapping
from urllib.parse import quote

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.accounts.service import SignedIn
from bot.config.responses import response_text
from bot.config.settings import Settings
from bot.handoff.notify import wait_text
from bot.handoff.service import MAX_REP_MESSAGE_CHARS, HandoffService, HandoffView
from bot.handoff.state import TransitionError
from bot.leads.sessions import SENDER_PATTERN as MINTED_SENDER
from bot.leads.sessions import verify as verify_session
from bot.runtime.tokens import rasa_auth_token
from bot.storage.tracker import conversation_events, tracker_engine
from bot.web import auth, urls
from bot.web.context import HOLDER_KEY, SETTINGS_KEY, WebServices, services
from bot.web.forms import read_form
from bot.web.templating import PAGES_KEY, PRIVATE_HEADERS, Pages

logger = logging.getLogger(__name__)

POLL_SECONDS = 25.0  # one long-poll; below common proxy idle timeouts (30-60 s)
POLL_STEP = 2.0  # how often a waiting poll reads the database (pushes made here wake it)
SWEEP_SECONDS = 1.0  # how often the wait deadlines are checked
RASA_TIMEOUT_S = 30.0
PUBLIC_ID = "[a-f0-9]{24}"
SENDER = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
# A push id: ASCII digits only (str.isdigit also takes "²"), small enough for an INTEGER column.
CURSOR = re.compile(r"^[0-9]{1,18}$")
MAX_FORM_BYTES = 64 * 1024
# Intents the web process triggers (domain.yml; no NLU examples: never typed).
INTENT_TIMEOUT = "handoff_timeout"
INTENT_RETURNED = "handoff_returned"
INTENT_CLOSED = "handoff_closed"
INTENT_RESUME_FORM = "resume_form"
# The conversation page: our one script, which reads the transcript from this origin.
LIVE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


# -- the Rasa API ---------------------------------------------------------------------------


class RasaError(Exception):
    """The Rasa server did not take the request (down, or it answered an error)."""


class RasaApi:
    """The few calls of Rasa's HTTP API a handoff needs, with the API token."""

    def __init__(self, client: ClientSession, base_url: str, token: str) -> None:
        self._client, self._base, self._token = client, base_url.rstrip("/"), token

    async def _post(self, path: str, body: Any) -> Dict[str, Any]:
        try:
            async with self._client.post(
                f"{self._base}{path}",
                params={"token": self._token},
                json=body,
                timeout=ClientTimeout(total=RASA_TIMEOUT_S),
            ) as response:
                if response.status >= 300:
                    raise RasaError(f"HTTP {response.status}")
                return await response.json()
        except (ClientError, asyncio.TimeoutError, ValueError) as error:
            raise RasaError(type(error).__name__) from error

    async def append(self, sender: str, events: List[Dict[str, Any]]) -> None:
        await self._post(f"/conversations/{quote(sender, safe='')}/tracker/events", events)

    async def trigger(self, sender: str, intent: str) -> List[Dict[str, Any]]:
        """Run the bot on an intent nobody typed; returns what it said (chat reply shapes)."""
        reply = await self._post(
            f"/conversations/{quote(sender, safe='')}/trigger_intent", {"name": intent}
        )
        messages = reply.get("messages") if isinstance(reply, dict) else None
        return [m for m in messages or [] if isinstance(m, dict)]


# -- state of the app -----------------------------------------------------------------------


@dataclass
class Live:
    """What only the handoff routes need, made at start-up: the Rasa API client, the tracker
    store's engine (made once its database exists), the long-polls' wake-up call."""

    settings: Settings
    rasa: RasaApi
    client: ClientSession
    wakeup: asyncio.Condition
    tracker: Any = None

    def tracker_engine(self) -> Any:
        if self.tracker is None:
            self.tracker = tracker_engine(self.settings.tracker_store_url)
        return self.tracker


class _Holder:
    live: Live | None = None


HOLDER = web.AppKey("handoff_live", _Holder)


def _live(request: web.Request) -> Live:
    live = request.app[HOLDER].live
    if live is None:  # pragma: no cover - only before start-up
        raise web.HTTPServiceUnavailable()
    return live


def _handoffs(app: web.Application) -> HandoffService:
    made = app[HOLDER_KEY].services
    if made is None:  # pragma: no cover - only before start-up
        raise web.HTTPServiceUnavailable()
    return made.core.handoffs


async def _lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
    settings = app[SETTINGS_KEY]
    client = ClientSession()
    live = Live(
        settings=settings,
        rasa=RasaApi(client, settings.rasa_url, rasa_auth_token(settings)),
        client=client,
        wakeup=asyncio.Condition(),
    )
    app[HOLDER].live = live
    sweeper = asyncio.create_task(_sweep(app, live))
    yield
    sweeper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweeper
    app[HOLDER].live = None
    await client.close()
    if live.tracker is not None:
        live.tracker.dispose()


# -- pushing to the widget ------------------------------------------------------------------


async def _push(
    live: Live, handoffs: HandoffService, sender: str, messages: List[Mapping[str, Any]]
) -> None:
    for message in messages:
        await asyncio.to_thread(handoffs.push, sender, message)
    if messages:
        async with live.wakeup:
            live.wakeup.notify_all()


def _reply_shape(message: Mapping[str, Any]) -> Dict[str, Any]:
    """A bot message as the chat channel returns it (text, buttons)."""
    shaped: Dict[str, Any] = {"text": str(message.get("text") or "")}
    buttons = message.get("buttons")
    if isinstance(buttons, list) and buttons:
        shaped["buttons"] = [
            {"title": str(b.get("title") or ""), "payload": str(b.get("payload") or "")}
            for b in buttons
            if isinstance(b, dict)
        ]
    return shaped


async def _sweep(app: web.Application, live: Live) -> None:
    """Every second: handoffs nobody took in time are missed, and the visitor is told."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            handoffs = _handoffs(app)
            for handoff in await asyncio.to_thread(handoffs.expire_due):
                try:
                    said = await live.rasa.trigger(handoff.conversation_id, INTENT_TIMEOUT)
                except RasaError as error:
                    logger.warning("Could not tell a visitor nobody took over (%s).", error)
                    continue
                await _push(
                    live,
                    handoffs,
                    handoff.conversation_id,
                    [_reply_shape(m) for m in said if m.get("text")],
                )
        except asyncio.CancelledError:
            raise
        except web.HTTPServiceUnavailable:
            continue  # the services are not made yet
        except Exception as error:  # noqa: BLE001 - the clock must keep ticking
            logger.error("Handoff deadline check failed (%s).", type(error).__name__)


# -- the widget's long-poll -----------------------------------------------------------------


def _cors(request: web.Request, settings: Settings) -> Dict[str, str]:
    origin = request.headers.get("Origin", "")
    headers = {"Vary": "Origin", "Cache-Control": "no-store"}
    if origin.lower() in settings.allowed_origins:
        headers["Access-Control-Allow-Origin"] = origin
    return headers


async def widget_events(request: web.Request) -> web.Response:
    """GET ?sender=&after=[&session=]: messages for the widget after the cursor `after`,
    waiting up to 25 s for one; `{"messages": [...], "cursor": n, "state": ...}`."""
    live = _live(request)
    made: WebServices = services(request)
    handoffs = made.core.handoffs
    headers = _cors(request, live.settings)
    origin = request.headers.get("Origin", "")
    if origin and origin.lower() not in live.settings.allowed_origins:
        return web.json_response({"error": "origin_not_allowed"}, status=403, headers=headers)
    sender = request.query.get("sender", "")
    if not SENDER.match(sender):
        return web.json_response({"error": "invalid_sender"}, status=400, headers=headers)
    # A server-minted conversation id proves ownership only with its session token.
    if MINTED_SENDER.match(sender) and not verify_session(
        made.secret(), sender, request.query.get("session", "")
    ):
        return web.json_response({"error": "invalid_session"}, status=403, headers=headers)
    raw_after = request.query.get("after", "")
    if raw_after and not CURSOR.match(raw_after):
        return web.json_response({"error": "invalid_cursor"}, status=400, headers=headers)
    if not raw_after:  # first poll: start from now, earlier messages came with chat replies
        cursor = await asyncio.to_thread(handoffs.last_push_id, sender)
        return web.json_response(
            {"messages": [], "cursor": cursor, "state": await _state(handoffs, sender)},
            headers=headers,
        )
    after = int(raw_after)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_SECONDS
    while True:
        pushes = await asyncio.to_thread(handoffs.pushes, sender, after)
        remaining = deadline - loop.time()
        if pushes or remaining <= 0:
            break
        async with live.wakeup:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(live.wakeup.wait(), timeout=min(POLL_STEP, remaining))
    return web.json_response(
        {
            "messages": [dict(p.message) for p in pushes],
            "cursor": pushes[-1].id if pushes else after,
            "state": await _state(handoffs, sender),
        },
        headers=headers,
    )


async def _state(handoffs: HandoffService, sender: str) -> str:
    current = await asyncio.to_thread(handoffs.current, sender)
    return current.state if current is not None else "none"


# -- the reps' pages ------------------------------------------------------------------------


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _rep_name(reps: Any, email: str | None) -> str | None:
    """A rep's name (the email when the reps file doesn't list them)."""
    if not email:
        return None
    rep = reps.rep(email)
    return rep.name if rep else email


def _row(h: HandoffView, now: datetime, reps: Any) -> Dict[str, Any]:
    # What kind and state read as is worded by the templates (inbox/_macros.html).
    return {
        "public_id": h.public_id,
        "path": urls.path(urls.INBOX_HANDOFF, public_id=h.public_id),
        "visitor": h.visitor,
        "kind": h.kind,
        "state": h.state,
        "missed_reason": h.missed_reason,
        "waiting": _ago(h.waiting_seconds(now)),
        "requested_at": h.requested_at,
        "rep_email": h.rep_email,
        "rep_name": h.rep_name,
        "taken_by": _rep_name(reps, h.taken_by),
        "taken_by_email": h.taken_by,
    }


TRANSCRIPT_WORDS = "inbox/transcript.txt"


def transcript_lines(
    events: List[Mapping[str, Any]], reps: Any, pages: Pages
) -> List[Dict[str, Any]]:
    """Tracker events as transcript lines: visitor, assistant, rep (by name), and the moments
    a person took over or the assistant came back, worded by inbox/transcript.txt."""

    def say(macro: str, **values: Any) -> str:
        return pages.words(TRANSCRIPT_WORDS, macro, **values)

    lines: List[Dict[str, Any]] = []
    paused = False  # a rep's every message re-pauses (see `message`): show changes only
    for event in events:
        kind = event.get("event")
        if kind in ("pause", "resume"):
            if (kind == "pause") == paused:
                continue
            paused = kind == "pause"
        stamp = event.get("timestamp")
        at = (
            datetime.fromtimestamp(stamp, timezone.utc) if isinstance(stamp, (int, float)) else None
        )
        line: Dict[str, Any] = {
            "ts": stamp if isinstance(stamp, (int, float)) else 0,
            "at": at.isoformat().replace("+00:00", "Z") if at else "",
            "at_label": say("at", moment=at) if at else "",
            "label": "",
        }
        if kind == "user":
            text = str(event.get("text") or "")
            if not text:
                continue
            if text.startswith("/"):  # a button: its payload, worded
                text = say("clicked", button=text[1:].split("{")[0].replace("_", " "))
            line.update(who="visitor", label=say("visitor"), text=text)
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            text = str(event.get("text") or "")
            buttons = (event.get("data") or {}).get("buttons") or []
            titles = " | ".join(str(b.get("title", "")) for b in buttons if isinstance(b, dict))
            if titles:
                text = f"{text}\n[{titles}]" if text else f"[{titles}]"
            if not text:
                continue
            rep_email = metadata.get("rep") if isinstance(metadata, dict) else None
            if rep_email:
                line.update(who="rep", label=_rep_name(reps, str(rep_email)), text=text)
            else:
                line.update(who="bot", label=say("assistant"), text=text)
        elif kind == "pause":
            line.update(who="note", text=say("paused"))
        elif kind == "resume":
            line.update(who="note", text=say("resumed"))
        else:
            continue
        lines.append(line)
    return lines


async def _events(live: Live, sender: str, after: float) -> List[Mapping[str, Any]]:
    def load() -> List[Mapping[str, Any]]:
        engine = live.tracker_engine()
        return conversation_events(engine, sender, after) if engine is not None else []

    return await asyncio.to_thread(load)


def _live_page(request: web.Request, template: str, status: int = 200, **context: Any):  # type: ignore[no-untyped-def]
    """A private page that runs our own script (the conversation view)."""
    return web.Response(
        text=request.app[PAGES_KEY].render(template, **context),
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={**PRIVATE_HEADERS, "Content-Security-Policy": LIVE_CSP},
    )


@auth.rep_page
async def queue_page(request: web.Request, rep: SignedIn) -> web.Response:
    made = services(request)
    views = await asyncio.to_thread(made.core.handoffs.queue)
    now = made.now()
    rows = [_row(view, now, made.core.reps) for view in views]
    return request.app[PAGES_KEY].private(
        "inbox/handoffs.html",
        open=[r for r in rows if r["state"] in ("waiting", "live")],
        ended=[r for r in rows if r["state"] not in ("waiting", "live")],
        wait_text=wait_text(made.settings.handoff_wait_seconds),
        me=rep,
    )


async def _handoff(request: web.Request) -> HandoffView | None:
    return await asyncio.to_thread(
        services(request).core.handoffs.get, request.match_info["public_id"]
    )


def _not_found(request: web.Request) -> web.Response:
    return request.app[PAGES_KEY].notice("no_handoff", 404)


async def _conversation(
    request: web.Request, rep: SignedIn, error: str = "", status: int = 200, **values: Any
) -> web.Response:
    """The handoff's page, with the error `error` (a macro of messages.txt) above it if any."""
    made = services(request)
    view = await _handoff(request)
    if view is None:
        return _not_found(request)
    lines = transcript_lines(
        list(await _events(_live(request), view.conversation_id, 0.0)),
        made.core.reps,
        request.app[PAGES_KEY],
    )
    return _live_page(
        request,
        "inbox/handoff.html",
        status,
        h=_row(view, made.now(), made.core.reps),
        mine=view.taken_by == rep.email,
        lines=lines,
        last_ts=lines[-1]["ts"] if lines else 0,
        max_chars=MAX_REP_MESSAGE_CHARS,
        error=request.app[PAGES_KEY].say(error, **values) if error else "",
        me=rep,
    )


@auth.rep_page
async def conversation_page(request: web.Request, rep: SignedIn) -> web.Response:
    return await _conversation(request, rep)


async def events_json(request: web.Request) -> web.Response:
    """The transcript after `?after=` (a tracker timestamp) and the handoff's state: the live
    view polls this every two seconds."""
    if await auth.signed_in(request) is None:
        return web.json_response({"error": "unauthorized"}, status=401, headers=PRIVATE_HEADERS)
    made = services(request)
    view = await _handoff(request)
    if view is None:
        return web.json_response({"error": "not_found"}, status=404, headers=PRIVATE_HEADERS)
    try:
        after = float(request.query.get("after") or 0)
    except ValueError:
        return web.json_response({"error": "invalid_cursor"}, status=400, headers=PRIVATE_HEADERS)
    lines = transcript_lines(
        list(await _events(_live(request), view.conversation_id, after)),
        made.core.reps,
        request.app[PAGES_KEY],
    )
    return web.json_response(
        {"state": view.state, "lines": lines},
        headers=PRIVATE_HEADERS,
    )


async def _form(request: web.Request, rep: SignedIn) -> tuple[Dict[str, str], web.Response | None]:
    """The posted form, or the answer to give instead (too large, or no valid CSRF token)."""
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        return {}, request.app[PAGES_KEY].notice("form_too_long", 413)
    data = await read_form(request)
    form = {key: value for key, value in data.items() if isinstance(value, str)}
    return form, auth.csrf_refused(request, form, rep.csrf_token)


HandoffPost = Callable[
    [web.Request, SignedIn, Dict[str, str], HandoffView], Awaitable[web.Response]
]


def _handoff_post(handler: HandoffPost) -> auth.Handler:
    """A signed-in rep's POST about one handoff: the handler runs only with a form that passed
    the size and CSRF checks and with the handoff the URL names; otherwise the sign-in page,
    the refusal or a 404."""

    @auth.rep_page
    @functools.wraps(handler)
    async def checked(request: web.Request, rep: SignedIn) -> web.Response:
        form, refused = await _form(request, rep)
        if refused is not None:
            return refused
        view = await _handoff(request)
        if view is None:
            return _not_found(request)
        return await handler(request, rep, form, view)

    return checked


def _back(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(urls.path(urls.INBOX_HANDOFF, public_id=request.match_info["public_id"]))


def _rep_display(request: web.Request, email: str) -> str:
    return _rep_name(services(request).core.reps, email) or email


@_handoff_post
async def take(
    request: web.Request, rep: SignedIn, _posted: Dict[str, str], view: HandoffView
) -> web.Response:
    made, live = services(request), _live(request)
    try:
        taken = await asyncio.to_thread(made.core.handoffs.take, view.public_id, rep.email)
    except TransitionError:
        return await _conversation(request, rep, "handoff_taken", 409)
    try:
        await live.rasa.append(taken.conversation_id, [{"event": "pause"}])
    except RasaError:
        await asyncio.to_thread(made.core.handoffs.close, taken.public_id)
        return await _conversation(request, rep, "handoff_not_paused", 502)
    joined = response_text("utter_rep_joined", rep_name=_rep_display(request, rep.email))
    await _push(live, made.core.handoffs, taken.conversation_id, [{"text": joined}])
    return _back(request)


@_handoff_post
async def message(
    request: web.Request, rep: SignedIn, form: Dict[str, str], view: HandoffView
) -> web.Response:
    made, live = services(request), _live(request)
    text = form.get("text", "").strip()
    if not text or len(text) > MAX_REP_MESSAGE_CHARS:
        return await _conversation(
            request, rep, "handoff_message_length", 400, most=MAX_REP_MESSAGE_CHARS
        )
    if view.state != "live" or view.taken_by != rep.email:
        return await _conversation(request, rep, "handoff_take_first", 409)
    try:
        # `pause` again: a visitor back after the session expired would have un-paused it.
        await live.rasa.append(
            view.conversation_id,
            [{"event": "pause"}, {"event": "bot", "text": text, "metadata": {"rep": rep.email}}],
        )
    except RasaError:
        return await _conversation(request, rep, "handoff_not_sent", 502)
    await _push(
        live,
        made.core.handoffs,
        view.conversation_id,
        [{"text": text, "rep_name": _rep_display(request, rep.email)}],
    )
    if request.headers.get("Accept", "").startswith("application/json"):
        return web.json_response({"ok": True}, headers=PRIVATE_HEADERS)
    return _back(request)


@_handoff_post
async def end(
    request: web.Request, rep: SignedIn, _posted: Dict[str, str], view: HandoffView
) -> web.Response:
    """Hand back (`/return`) or close (`/close`). The bot is resumed and has spoken, and the
    widget has what it said, before the state changes: the widget stops listening when it sees
    the handoff ended."""
    hand_back = request.match_info["end"] == "return"
    made, live = services(request), _live(request)
    allowed = ("live",) if hand_back else ("waiting", "live", "missed")
    if view.state not in allowed:
        return await _conversation(request, rep, "handoff_ended", 409)
    messages: List[Mapping[str, Any]] = []
    if view.kind == "live" and view.state == "live":
        if hand_back:
            intent = INTENT_RESUME_FORM if view.form_interrupted else INTENT_RETURNED
        else:
            intent = INTENT_CLOSED
        try:
            await live.rasa.append(view.conversation_id, [{"event": "resume"}])
            said = await live.rasa.trigger(view.conversation_id, intent)
        except RasaError:
            return await _conversation(request, rep, "handoff_not_resumed", 502)
        if view.taken_by:
            name = _rep_display(request, view.taken_by)
            messages.append({"text": response_text("utter_rep_left", rep_name=name)})
        messages.extend(_reply_shape(m) for m in said if m.get("text"))
    await _push(live, made.core.handoffs, view.conversation_id, messages)
    try:
        move = made.core.handoffs.hand_back if hand_back else made.core.handoffs.close
        await asyncio.to_thread(move, view.public_id)
    except TransitionError:
        return await _conversation(request, rep, "handoff_ended", 409)
    return _back(request)


def routes() -> List[web.AbstractRouteDef]:
    one = urls.route(urls.INBOX_HANDOFF, public_id=PUBLIC_ID)
    return [
        web.get(urls.WIDGET_EVENTS, widget_events),
        web.get(urls.INBOX_HANDOFFS, queue_page),
        web.get(one, conversation_page),
        web.get(one + "/events.json", events_json),
        web.post(one + "/take", take),
        web.post(one + "/message", message),
        web.post(one + "/{end:return|close}", end),
    ]


def install(app: web.Application) -> None:
    """Mount the handoff routes, the Rasa client and the deadline clock on the web app."""
    app[HOLDER] = _Holder()
    app.cleanup_ctx.append(_lifecycle)
    app.add_routes(routes())
