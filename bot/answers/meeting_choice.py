"""Which offered meeting time the visitor picked, typed or clicked ("the second one",
"Tuesday at 10", "none of these work")."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Sequence

from bot.clock import as_utc as _utc
from bot.clock import zone_or_none as _zone

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
