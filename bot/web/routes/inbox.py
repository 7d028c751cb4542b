"""The reps' inbox (signed-in reps only): upcoming meetings, leads (search, filters by tier,
outcome, rep and "waiting for a person", pages of PAGE_LEADS) with their answers and score
breakdown, each rep's calendar feed (`GET /inbox`), and one lead with its conversation
(`GET /inbox/leads/{lead_id}`, the lead's opaque id). Database work runs in threads so the event
loop keeps serving the widget."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping

from aiohttp import web

from bot.accounts.service import SignedIn
from bot.conversation.questions import QUESTION_LABELS
from bot.leads.queries import (
    LeadFilter,
    count_leads,
    lead_record,
    recent_leads,
    upcoming_meetings,
)
from bot.storage.engine import unit_of_work
from bot.storage.enums import Outcome, Tier
from bot.web import auth, urls
from bot.web.context import services
from bot.web.templating import PAGES_KEY

PAGE_LEADS = 25
MAX_SEARCH = 200


def _anchor(lead_id: str | None) -> str:
    return hashlib.sha256((lead_id or "").encode()).hexdigest()[:12]


def _common(rep: SignedIn) -> Dict[str, Any]:
    return {"me": rep, "anchor_of": _anchor, "question_labels": QUESTION_LABELS}


@dataclass(frozen=True)
class Listing:
    """The inbox's query string, checked: the filter and the page."""

    where: LeadFilter
    page: int

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Listing:
        """Raises ValueError naming the parameter that is wrong."""
        search = query.get("q", "").strip()
        if len(search) > MAX_SEARCH:
            raise ValueError(f"q: at most {MAX_SEARCH} characters")
        try:
            tier = Tier(query["tier"]) if query.get("tier") else None
        except ValueError:
            raise ValueError("tier: one of " + ", ".join(t.value for t in Tier)) from None
        try:
            outcome = Outcome(query["outcome"]) if query.get("outcome") else None
        except ValueError:
            raise ValueError("outcome: one of " + ", ".join(o.value for o in Outcome)) from None
        page = query.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= 100_000:
            raise ValueError("page: a number from 1")
        return cls(
            LeadFilter(
                search=search,
                tier=tier,
                outcome=outcome,
                rep_email=query.get("rep", "").strip()[:320],
                waiting=query.get("waiting") in ("1", "on", "true"),
            ),
            int(page),
        )

    def query(self, page: int | None = None) -> Dict[str, object]:
        where = self.where
        return {
            "q": where.search,
            "tier": where.tier.value if where.tier else "",
            "outcome": where.outcome.value if where.outcome else "",
            "rep": where.rep_email,
            "waiting": "1" if where.waiting else "",
            "page": page if page and page > 1 else "",
        }

    def url(self, page: int) -> str:
        return urls.with_query(urls.INBOX, self.query(page))


@auth.rep_page
async def inbox_page(request: web.Request, rep: SignedIn) -> web.Response:
    pages = request.app[PAGES_KEY]
    try:
        listing = Listing.parse(request.query)
    except ValueError as error:
        return pages.notice("bad_filter", 400, error=str(error))
    made = services(request)

    def load():  # type: ignore[no-untyped-def]
        offset = (listing.page - 1) * PAGE_LEADS
        with unit_of_work(made.sessions) as session:
            return (
                upcoming_meetings(session, made.now()),
                recent_leads(session, PAGE_LEADS, offset, listing.where),
                count_leads(session, listing.where),
            )

    meetings, leads, total = await asyncio.to_thread(load)
    last_page = max(1, -(-total // PAGE_LEADS))
    return pages.private(
        "inbox/index.html",
        meetings=meetings,
        leads=leads,
        total=total,
        listing=listing,
        filtered=listing.where != LeadFilter(),
        first_shown=(listing.page - 1) * PAGE_LEADS + 1 if leads else 0,
        previous_url=listing.url(listing.page - 1) if listing.page > 1 else None,
        next_url=listing.url(listing.page + 1) if listing.page < last_page else None,
        last_page=last_page,
        tiers=list(Tier),
        outcomes=list(Outcome),
        feeds=await asyncio.to_thread(made.feeds),
        reps=made.core.reps,
        **_common(rep),
    )


@auth.rep_page
async def lead_page(request: web.Request, rep: SignedIn) -> web.Response:
    made = services(request)
    lead_id = request.match_info["lead_id"]
    if len(lead_id) > 64 or not lead_id.isprintable():  # never an id
        lead_id = ""  # (a NUL byte would be a database error in PostgreSQL)

    def load():  # type: ignore[no-untyped-def]
        with unit_of_work(made.sessions) as session:
            lead = lead_record(session, lead_id)
        if lead is None:  # no consent, or erased: no lead and nothing to show
            return None, None
        return lead, made.tracker.transcript(lead.conversation_id)

    lead, lines = await asyncio.to_thread(load)
    pages = request.app[PAGES_KEY]
    if lead is None:
        return pages.notice("no_lead", 404)
    return pages.private(
        "inbox/lead.html", lead=lead, lines=lines, reps=made.core.reps, **_common(rep)
    )


def routes() -> List[web.AbstractRouteDef]:
    return [
        web.get(urls.INBOX, inbox_page),
        web.get(urls.route(urls.INBOX_LEAD, lead_id=".+"), lead_page),
    ]
