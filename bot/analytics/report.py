"""Build the funnel report for a window from the configured databases."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.analytics.funnel import FunnelReport, funnel, with_outcomes
from bot.analytics.source import read_journeys, read_outcomes

_SPAN = re.compile(r"^\s*(\d{1,4})\s*([dhw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_span(value: str) -> timedelta:
    """'30d', '12h', '2w' -> a timedelta; anything else is a ValueError naming the format."""
    match = _SPAN.match(value or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a span like 30d, 12h or 2w, not {value!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def build_report(
    engine: Engine, tracker_store_url: str, since: datetime, until: datetime
) -> FunnelReport:
    journeys = with_outcomes(read_journeys(tracker_store_url, since, until), read_outcomes(engine))
    return funnel(journeys, since, until)
