"""The reps' downloads: recent leads as JSON (`/inbox/leads.json`) and CSV (`/inbox/leads.csv`),
`?limit=` up to EXPORT_MAX; for a signed-in rep, or a tool with the API key (INBOX_TOKEN as
`Authorization: Bearer`)."""

from __future__ import annotations

import asyncio
from typing import List, Tuple

from aiohttp import web

from bot.leads.queries import recent_leads
from bot.leads.record import LeadRecord, leads_csv
from bot.storage.engine import unit_of_work
from bot.web import auth, urls
from bot.web.context import services
from bot.web.templating import PRIVATE_HEADERS

EXPORT_DEFAULT = 500
EXPORT_MAX = 10_000


def _limit(request: web.Request) -> int | None:
    try:
        value = int(request.query.get("limit", EXPORT_DEFAULT))
    except ValueError:
        return None
    return value if 1 <= value <= EXPORT_MAX else None


async def _records(request: web.Request) -> Tuple[web.Response | None, List[LeadRecord]]:
    denied = await auth.rep_or_api_key(request)
    if denied is not None:
        return denied, []
    limit = _limit(request)
    if limit is None:
        return web.json_response(
            {"error": "bad_limit", "detail": f"limit must be 1..{EXPORT_MAX}"},
            status=400,
            headers=PRIVATE_HEADERS,
        ), []
    made = services(request)

    def load() -> List[LeadRecord]:
        with unit_of_work(made.sessions) as session:
            return recent_leads(session, limit)

    return None, await asyncio.to_thread(load)


async def leads_json(request: web.Request) -> web.Response:
    error, records = await _records(request)
    if error is not None:
        return error
    return web.json_response(
        {"leads": [record.to_download() for record in records]}, headers=PRIVATE_HEADERS
    )


async def leads_csv_download(request: web.Request) -> web.Response:
    error, records = await _records(request)
    if error is not None:
        return error
    day = services(request).now().strftime("%Y%m%d")
    return web.Response(
        text=leads_csv(records),
        content_type="text/csv",
        charset="utf-8",
        headers={
            **PRIVATE_HEADERS,
            "Content-Disposition": f'attachment; filename="leads-{day}.csv"',
        },
    )


def routes() -> List[web.AbstractRouteDef]:
    return [
        web.get(urls.INBOX_LEADS_JSON, leads_json),
        web.get(urls.INBOX_LEADS_CSV, leads_csv_download),
    ]
