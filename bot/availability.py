"""A rep's free slots, and understanding which one the visitor picked.

Slots are computed in the rep's own time zone (so 09:00 stays 09:00 across DST changes) and
returned as aware UTC datetimes. They start every meeting + buffer minutes from the start of
each working window; a slot is free when it starts after the minimum notice and neither it nor
its buffer overlaps a booked meeting.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, List, Sequence, Tuple, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.reps import Rep

Interval = Tuple[datetime, datetime]
Taken = Union[datetime, Interval]

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: availability works with aware datetimes only")
    return value.astimezone(timezone.utc)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


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


def _free(start: datetime, rep: Rep, busy: Sequence[Interval]) -> bool:
    buffer = timedelta(minutes=rep.buffer_minutes)
    end = start + timedelta(minutes=rep.meeting_minutes)
    return all(not (start < b_end + buffer and b_start < end + buffer) for b_start, b_end in busy)


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
    busy = _intervals(rep, taken)
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
    return _free(start, rep, _intervals(rep, taken))


def format_slot(start_utc: datetime, visitor_tz: str | None = None) -> str:
    """ "Tue 25 Nov, 10:00 (Europe/Berlin)"; in UTC, labelled so, without a usable zone."""
    zone = _zone(visitor_tz)
    local = _utc(start_utc).astimezone(zone or timezone.utc)
    label = visitor_tz if zone else "UTC"
    return (
        f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]}, "
        f"{local:%H:%M} ({label})"
    )


# -- the visitor's typed choice -------------------------------------------------------------

_ORDINALS = {
    "first": 1,
    "1st": 1,
    "one": 1,
    "second": 2,
    "2nd": 2,
    "two": 2,
    "third": 3,
    "3rd": 3,
    "three": 3,
    "fourth": 4,
    "4th": 4,
    "four": 4,
    "fifth": 5,
    "5th": 5,
    "five": 5,
}
_WEEKDAYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_WEEKDAY_RE = re.compile(
    r"\b(mon|tue|wed|thu|fri|sat|sun)(?:day|s|sday|nesday|rsday|urday|d|r|t)?\b\.?"
)
_TIME_RE = re.compile(
    r"(?:\bat\s+|@\s*)?\b(\d{1,2})(?:[:.h](\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?(?=\b|$)|\b(noon|midday)\b"
)
_OTHER_TIMES = re.compile(
    r"\b(none|neither|no(?:ne)? of (?:these|those|them|the above))\b"
    r"|\b(?:other|different|another|more|later|earlier)\s+(?:times?|slots?|days?|options?|dates?)\b"
    r"|\b(?:doesn'?t|don'?t|do not|does not|won'?t|can'?t|cannot)\s+(?:work|suit|fit|make)\b"
    r"|\bnot (?:these|those|any of)\b|\bsomething else\b|\bnext week\b|\bbusy\b"
)


def wants_other_times(text: str) -> bool:
    """True for "none of these work", "other times please", "can't make those"."""
    return bool(_OTHER_TIMES.search((text or "").lower().replace("’", "'")))


def parse_slot_choice(
    text: str, offered: Sequence[datetime], visitor_tz: str | None, now: datetime
) -> datetime | None:
    """Which of the `offered` slots the visitor typed, or None when it is not clear.

    Understands positions ("the second one", "2", "last"), times and days in the visitor's
    zone ("10am works", "Tuesday at 10", "tomorrow 14:00"), and an offered slot's ISO time
    (button payloads).
    """
    if not offered or not text or not text.strip():
        return None
    raw = text.strip()
    for slot in offered:  # a button's payload: the slot itself
        try:
            if _utc(datetime.fromisoformat(raw.replace("Z", "+00:00"))) == _utc(slot):
                return slot
        except ValueError:
            break
    lowered = raw.lower().replace("’", "'")
    if wants_other_times(lowered):
        return None
    zone = _zone(visitor_tz) or timezone.utc
    local = [_utc(slot).astimezone(zone) for slot in offered]

    words = re.findall(r"[a-z0-9]+", lowered)
    has_time_marker = bool(
        re.search(r"\d\s*(?:am|pm|a\.m|p\.m)|\d[:.h]\d\d|\bat\s+\d|noon", lowered)
    )
    # 1. A position: "the second one", "option 2", "#3", "2", "last".
    if not has_time_marker:
        positions = {_ORDINALS[w] for w in words if w in _ORDINALS and w != "one"}
        if "last" in words:
            positions.add(len(offered))
        if not positions and "one" in words:  # "one" counts only alone: "the second one" is 2
            positions.add(1)
        numbers = [
            int(n) for n in re.findall(r"(?:^|#|option\s*|number\s*|no\.?\s*)(\d+)\s*$", lowered)
        ]
        if not positions and len(words) == 1 and words[0].isdigit():
            numbers.append(int(words[0]))
        positions |= {n for n in numbers if 1 <= n <= len(offered)}
        if len(positions) == 1:
            (position,) = positions
            if 1 <= position <= len(offered):
                return offered[position - 1]
        if len(positions) > 1:
            return None

    # 2. Day and/or time in the visitor's zone.
    candidates = list(range(len(offered)))
    matched_something = False
    weekday = _WEEKDAY_RE.search(lowered)
    today = _utc(now).astimezone(zone).date()
    if weekday:
        day = _WEEKDAYS[weekday.group(1)]
        candidates = [i for i in candidates if local[i].weekday() == day]
        matched_something = True
    elif re.search(r"\btomorrow\b", lowered):
        candidates = [i for i in candidates if local[i].date() == today + timedelta(days=1)]
        matched_something = True
    elif re.search(r"\btoday\b", lowered):
        candidates = [i for i in candidates if local[i].date() == today]
        matched_something = True
    else:
        day_of_month = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)\b", lowered)
        if day_of_month:
            candidates = [i for i in candidates if local[i].day == int(day_of_month.group(1))]
            matched_something = True
            lowered = lowered.replace(day_of_month.group(0), " ")

    for match in _TIME_RE.finditer(lowered):
        if match.group(4):  # noon / midday
            hour, minute, meridiem = 12, 0, "pm"
        else:
            hour, minute = int(match.group(1)), int(match.group(2) or 0)
            meridiem = (match.group(3) or "").replace(".", "")
        if hour > 23 or minute > 59:
            continue
        if meridiem == "pm" and hour < 12:
            hours = {hour + 12}
        elif meridiem == "am":
            hours = {0 if hour == 12 else hour}
        elif hour < 12 and not match.group(2):
            hours = {hour, hour + 12}  # "at 3" on a business day: 15:00 is the likely one
        else:
            hours = {hour}
        candidates = [i for i in candidates if local[i].hour in hours and local[i].minute == minute]
        matched_something = True
        break
    if matched_something and len(candidates) == 1:
        return offered[candidates[0]]
    return None
