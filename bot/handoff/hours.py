"""Who can answer now: a rep's working hours (REPS_FILE) against the current time."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from bot.booking.reps import Rep


def is_working(rep: Rep, now: datetime) -> bool:
    """Whether `now` falls in one of the rep's working windows, in the rep's own time zone."""
    local = now.astimezone(rep.zone)
    moment = local.time()
    return any(start <= moment < end for start, end in rep.working_hours.get(local.weekday(), ()))


def first_working(candidates: Iterable[Rep], now: datetime) -> Rep | None:
    """The first candidate (in order of preference) who is working now."""
    return next((rep for rep in candidates if is_working(rep, now)), None)


def unique(reps: Sequence[Rep | None]) -> list[Rep]:
    seen: dict[str, Rep] = {}
    for rep in reps:
        if rep is not None and rep.email not in seen:
            seen[rep.email] = rep
    return list(seen.values())
