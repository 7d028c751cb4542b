"""Time as every package sees it: the injectable clock, UTC conversion and IANA zones.

Everything stored or compared is an aware UTC datetime; zones only matter where a person reads
a time (the visitor's buttons, the rep's working hours).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; naive datetimes are refused, since their zone is a guess."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: Leadbot works with aware datetimes only")
    return value.astimezone(timezone.utc)


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone called `name`, or None when it is empty or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
