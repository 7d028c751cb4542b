"""The funnel page for marketing (signed-in reps only, `GET /inbox/funnel?since=30d`): the
report of bot/analytics for a period ending now, as charts with their numbers in tables beside
them. Aggregates only: counts, rates and durations, never a visitor.

Reading the tracker events of a period may take a while: it runs in a thread so the event loop
keeps serving the widget, and so does drawing the charts (matplotlib is CPU work)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Dict, List, Tuple

from aiohttp import web

from bot.accounts.service import SignedIn
from bot.analytics.funnel import BREAKDOWN_STEPS, STEP_NAMES, FunnelReport
from bot.analytics.report import build_report, parse_span
from bot.conversation.questions import QUESTION_LABELS, QUESTIONS
from bot.web import auth, urls
from bot.web.context import WebServices, services
from bot.web.templating import PAGES_KEY

DEFAULT_PERIOD = "30d"
PERIODS = ("7d", "30d", "90d")  # offered in the selector; any other span up to LONGEST works
LONGEST = timedelta(days=366)


def period(query: str | None) -> Tuple[str, timedelta]:
    """The `since` parameter, checked: ('30d', 30 days). Raises ValueError saying what works."""
    text = (query or "").strip() or DEFAULT_PERIOD
    span = parse_span(text)
    if span > LONGEST:
        raise ValueError(f"at most {LONGEST.days}d, not {text!r}")
    return text.replace(" ", ""), span


def _load(made: WebServices, span: timedelta) -> Tuple[FunnelReport, Dict[str, str]]:
    # matplotlib on the first funnel page, not at start-up: ~30 MiB and seconds of every web
    # process's start for a page a few reps open (reports/profile.md, "Memory").
    from bot.analytics.charts import all_charts

    until = made.now()
    report = build_report(made.core.engine, made.settings.tracker_store_url, until - span, until)
    return report, all_charts(report)


@auth.rep_page
async def funnel_page(request: web.Request, rep: SignedIn) -> web.Response:
    pages = request.app[PAGES_KEY]
    try:
        chosen, span = period(request.query.get("since"))
    except ValueError as error:
        return pages.notice("bad_period", 400, error=str(error))
    report, charts = await asyncio.to_thread(_load, services(request), span)
    return pages.private(
        "inbox/funnel.html",
        me=rep,
        report=report,
        data=report.as_dict(),
        charts=charts,
        steps=STEP_NAMES,
        breakdown_steps=BREAKDOWN_STEPS,
        questions=QUESTIONS,
        question_labels=QUESTION_LABELS,
        chosen=chosen,
        periods=PERIODS if chosen in PERIODS else (*PERIODS, chosen),
    )


def routes() -> List[web.AbstractRouteDef]:
    return [web.get(urls.INBOX_FUNNEL, funnel_page)]
