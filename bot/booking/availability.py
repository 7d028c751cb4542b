"""A rep's free slots, and how a slot is shown to a person.

Slots are computed in the rep's own time zone (so 09:00 stays 09:00 across DST changes) and
returned as aware UTC datetimes. They start every meeting + buffer minutes from the start of
each working window; a slot is free when it starts after the minimum notice and neither it nor
its buffer overlaps a booked meeting.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, datetime, time, timedelta, timezone
from itertools import accumulate
from typing import Iterable, List, Tuple, Union
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.booking.reps import Rep
from bot.clock import as_utc as _utc
from bot.clock import zone_or_none as _zone

Interval = Tuple[datetime, datetime]
Taken = Union[datetime, Interval]

# How a meeting time reads ("Tue 25 Nov, 10:00"); the names come from the locale (Babel).
SLOT_PATTERN = "EEE d MMM, HH:mm"


def _local(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """`at` on `day` in `zone`, or None when that wall time does not exist (spring forward)."""
    candidate = datetime.combine(day, at, tzinfo=zone)
    round_trip = candidate.astimezone(timezone.utc).astimezone(zone)
    if round_trip.replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None
    return candidate


def _intervals(rep: Rep, taken: Iterable[Taken]) -> List[Interval]:
    length = timedelta(minutes=rep.meeting_minutes)
    result = []
    for item in taken:
        if isinstance(item, tuple):
            result.append((_utc(item[0]), _utc(item[1])))
        else:
            result.append((_utc(item), _utc(item) + length))
    return result


def slot_starts(rep: Rep, day: date) -> List[datetime]:
    """Every slot start (UTC) of the rep's working day `day` (the rep's local date)."""
    zone = rep.zone
    step = timedelta(minutes=rep.meeting_minutes + rep.buffer_minutes)
    length = timedelta(minutes=rep.meeting_minutes)
    starts = []
    for window_start, window_end in rep.working_hours.get(day.weekday(), ()):
        begin = _local(day, window_start, zone)
        end = _local(day, window_end, zone)
        if begin is None or end is None:
            continue
        end_utc = end.astimezone(timezone.utc)
        # Step in wall-clock time, so a DST change inside a window keeps the local grid.
        local = begin.replace(tzinfo=None)
        while True:
            wall = _local(local.date(), local.time(), zone)
            local += step
            if wall is None:
                continue
            start = wall.astimezone(timezone.utc)
            if start + length > end_utc:
                break
            starts.append(start)
    return starts


class _Busy:
    """Busy intervals, sorted, so that checking a slot costs a binary search, not a pass over
    every meeting: a rep with hundreds of booked meetings (or a crowded calendar feed) is offered
    times as fast as one with a few."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        ordered = sorted(intervals)
        self._starts = [begin for begin, _ in ordered]
        # _latest_end[i]: the latest end among the first i + 1 intervals (they may overlap, e.g.
        # an all-day event around meetings), so one lookup tells whether any of them reaches on.
        self._latest_end = list(accumulate((end for _, end in ordered), max))

    def overlaps(self, begin: datetime, end: datetime) -> bool:
        """Whether any interval starts before `end` and ends after `begin`."""
        starting_before = bisect_left(self._starts, end)
        return starting_before > 0 and self._latest_end[starting_before - 1] > begin


def _free(start: datetime, rep: Rep, busy: _Busy) -> bool:
    """Neither the meeting nor its buffer on either side touches a busy interval."""
    buffer = timedelta(minutes=rep.buffer_minutes)
    end = start + timedelta(minutes=rep.meeting_minutes)
    return not busy.overlaps(start - buffer, end + buffer)


def next_slots(
    rep: Rep,
    now: datetime,
    taken: Iterable[Taken] = (),
    count: int = 3,
    after: datetime | None = None,
) -> List[datetime]:
    """The rep's next `count` free slot starts (UTC), strictly after `after` if given."""
    now = _utc(now)
    earliest = now + timedelta(minutes=rep.min_notice_minutes)
    if after is not None:
        earliest = max(earliest, _utc(after) + timedelta(seconds=1))
    busy = _Busy(_intervals(rep, taken))
    zone = rep.zone
    first_day = earliest.astimezone(zone).date()
    last_day = now.astimezone(zone).date() + timedelta(days=rep.horizon_days)
    slots: List[datetime] = []
    day = first_day
    while day <= last_day and len(slots) < count:
        for start in slot_starts(rep, day):
            if start >= earliest and _free(start, rep, busy):
                slots.append(start)
                if len(slots) == count:
                    break
        day += timedelta(days=1)
    return slots


def is_bookable(rep: Rep, start: datetime, now: datetime, taken: Iterable[Taken] = ()) -> bool:
    """Whether `start` is one of the rep's slots, far enough ahead, and free."""
    start, now = _utc(start), _utc(now)
    if start < now + timedelta(minutes=rep.min_notice_minutes):
        return False
    if start > now + timedelta(days=rep.horizon_days + 1):
        return False
    if start not in slot_starts(rep, start.astimezone(rep.zone).date()):
        return False
    return _free(start, rep, _Busy(_intervals(rep, taken)))


def format_slot(start_utc: datetime, visitor_tz: str | None = None, locale: str = "en") -> str:
    """ "Tue 25 Nov, 10:00 (Europe/Berlin)" ("Di. 25 Nov., 10:00" in `de`); in UTC, labelled
    so, without a usable zone."""
    zone = _zone(visitor_tz)
    local = _utc(start_utc).astimezone(zone or timezone.utc)
    label = visitor_tz if zone else "UTC"
    text = format_datetime(local, SLOT_PATTERN, tzinfo=local.tzinfo, locale=locale)
    return f"{text} ({label})"
