"""The visitor's manage link from the booking confirmation, email and invite:
`GET /meetings/{token}` shows the meeting with a cancel button and the rep's free times;
`POST …/cancel` cancels, `POST …/reschedule` (field `start`, ISO 8601) moves it.

The token is signed (bot/booking/links.py) and is the only credential: like the unsubscribe
link, the forms carry no CSRF token of their own, because the secret token in the URL already
proves the right to act and a forging site cannot know it. A POST whose Origin is another site
is refused all the same. A GET never changes anything (mail scanners prefetch links). Bad or
forged links, past and cancelled meetings get a page that says so, never an error.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import List

from aiohttp import web

from bot.booking.service import Managed
from bot.config.settings import origin_of
from bot.web import urls
from bot.web.context import SETTINGS_KEY, services
from bot.web.forms import read_form
from bot.web.templating import PAGES_KEY

STATUS = {"unknown": 404, "taken": 409, "cross_site": 403, "bad_time": 400}


def _page(request: web.Request, managed: Managed) -> web.Response:
    meeting = managed.meeting
    return request.app[PAGES_KEY].private(
        "meeting.html",
        status=STATUS.get(managed.state, 200),
        state=managed.state,
        token=request.match_info["token"],
        meeting=meeting,
        zone=meeting.visitor_tz if meeting else None,
        slots=managed.slots,
    )


def _cross_site(request: web.Request) -> bool:
    """A POST from a page of another site (browsers send Origin with every form POST)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    settings = request.app[SETTINGS_KEY]
    own = {origin_of(settings.public_base_url), f"{request.scheme}://{request.host}".lower()}
    return origin.lower() not in own


async def show(request: web.Request) -> web.Response:
    booking = services(request).core.booking
    managed = await asyncio.to_thread(booking.manage, request.match_info["token"])
    return _page(request, managed)


async def cancel(request: web.Request) -> web.Response:
    if _cross_site(request):
        return _page(request, Managed("cross_site"))
    booking = services(request).core.booking
    managed = await asyncio.to_thread(booking.cancel, request.match_info["token"])
    return _page(request, managed)


def _start(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else None


async def reschedule(request: web.Request) -> web.Response:
    if _cross_site(request):
        return _page(request, Managed("cross_site"))
    booking = services(request).core.booking
    token = request.match_info["token"]
    form = await read_form(request)
    start = _start(form.get("start"))
    if start is None:
        shown = await asyncio.to_thread(booking.manage, token)
        if shown.state != "booked":
            return _page(request, shown)
        return _page(request, Managed("bad_time", shown.meeting, shown.slots))
    managed = await asyncio.to_thread(booking.reschedule, token, start)
    return _page(request, managed)


def routes() -> List[web.AbstractRouteDef]:
    return [
        web.get(urls.route(urls.MEETING, token=urls.TOKEN), show),
        web.post(urls.route(urls.MEETING_CANCEL, token=urls.TOKEN), cancel),
        web.post(urls.route(urls.MEETING_RESCHEDULE, token=urls.TOKEN), reschedule),
    ]
