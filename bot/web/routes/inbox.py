"""The reps' inbox: upcoming meetings, recent leads with their answers and score breakdown,
each rep's calendar feed (`GET /inbox`), and one lead with its conversation
(`GET /inbox/leads/{conversation_id}`). Database work runs in threads so the event loop keeps
serving the widget."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Callable, List

from aiohttp import web

from bot.conversation.questions import QUESTION_LABELS
from bot.leads.queries import lead_record, recent_leads, upcoming_meetings
from bot.storage.engine import unit_of_work
from bot.web import auth, urls
from bot.web.context import services
from bot.web.templating import PAGES_KEY

PAGE_LEADS = 50


def _anchor(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode()).hexdigest()[:12]


def _linker(token: str | None) -> Callable[[str], str]:
    return lambda relative: urls.with_query(relative, {"token": token})


async def inbox_page(request: web.Request) -> web.Response:
    denied, token = auth.denied(request)
    if denied is not None:
        return denied
    made = services(request)

    def load():  # type: ignore[no-untyped-def]
        with unit_of_work(made.sessions) as session:
            return upcoming_meetings(session, made.now()), recent_leads(session, PAGE_LEADS)

    meetings, leads = await asyncio.to_thread(load)
    return request.app[PAGES_KEY].private(
        "inbox/index.html",
        meetings=meetings,
        leads=leads,
        feeds=await asyncio.to_thread(made.feeds),
        reps=made.core.reps,
        link=_linker(token),
        anchor_of=_anchor,
        question_labels=QUESTION_LABELS,
    )


async def lead_page(request: web.Request) -> web.Response:
    denied, token = auth.denied(request)
    if denied is not None:
        return denied
    made = services(request)
    conversation_id = request.match_info["conversation_id"]

    def load():  # type: ignore[no-untyped-def]
        with unit_of_work(made.sessions) as session:
            lead = lead_record(session, conversation_id)
        if lead is None:  # no consent, or erased: no lead and nothing to show
            return None, None
        return lead, made.tracker.transcript(conversation_id)

    lead, lines = await asyncio.to_thread(load)
    pages = request.app[PAGES_KEY]
    if lead is None:
        return pages.message(
            "No such lead", "There is no lead for this conversation (or it was erased).", 404
        )
    return pages.private(
        "inbox/lead.html",
        lead=lead,
        lines=lines,
        reps=made.core.reps,
        link=_linker(token),
        anchor_of=_anchor,
        question_labels=QUESTION_LABELS,
    )


def routes() -> List[web.AbstractRouteDef]:
    return [
        web.get(urls.INBOX, inbox_page),
        web.get(urls.route(urls.INBOX_LEAD, conversation_id=".+"), lead_page),
    ]
