"""Timeline: in how many whole months the visitor expects to buy (0 = now / this month)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Callable, Tuple

from bot.answers._numbers import numeric_text
from bot.answers._text import (
    FuzzyVocabulary,
    fix_words,
    is_researching,
    is_unknown,
    screen,
)
from bot.answers._types import UNKNOWN, Parsed, invalid, ok

MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = 30.44
WEEKS_PER_MONTH = 4.345
# "soon" without a number: the bot treats it as about a month away.
SOON_MONTHS = 1
# "several months": a little more than "a few" (3).
SEVERAL = 4
# Only short remainders go to dateparser: it is slow and finds dates in almost anything.
MAX_DATEPARSER_CHARS = 60
FUZZY_CUTOFF = 0.8  # "monts" -> "months", "febuary" -> "february"

_PAST = -1  # rule result for an explicit date that has already gone by

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_MONTH_ABBREVIATIONS = {name[:3]: number for name, number in _MONTHS.items()} | {"sept": 9}
_MONTH_RE = "|".join(
    sorted((set(_MONTHS) | set(_MONTH_ABBREVIATIONS)) - {"may"}, key=len, reverse=True)
)

_TYPOS = {
    "nxt": "next",
    "nex": "next",
    "mnths": "months",
    "mths": "months",
    "mnth": "month",
    "mth": "month",
    "monts": "months",
    "qtr": "quarter",
    "qtrs": "quarters",
    "assap": "asap",
    "asp": "asap",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "urgnt": "urgent",
    "yr": "year",
    "yrs": "years",
    "wk": "week",
    "wks": "weeks",
    "eoy": "end of the year",
    "eoq": "end of the quarter",
    "eom": "end of the month",
    "rn": "right now",
    "pls": "",
    "plz": "",
    "please": "",
}
# Words the rules look for; misspellings of them are corrected with difflib.
_VOCABULARY = (
    set(_MONTHS)
    | {"month", "months", "week", "weeks", "year", "years", "quarter", "quarters", "days"}
    | {"immediately", "possible", "tomorrow", "yesterday", "today", "urgent", "urgently"}
    | {"spring", "summer", "autumn", "winter", "christmas", "holidays", "shortly", "several"}
    | {"beginning", "middle", "start", "early", "later", "within", "until", "before", "after"}
    | {"next", "this", "end", "soon", "couple", "half", "fortnight", "around", "about"}
)
_FUZZY = FuzzyVocabulary(_VOCABULARY, FUZZY_CUTOFF)
# Everyday words a letter away from a time word: never "corrected" ("the match" is no March).
_NOT_TYPOS = frozenset({"match", "matches", "julie", "julia", "marching", "weekly", "yearly"})

_NOT_NOW = re.compile(
    r"\bnot (right )?now\b|\bnot (yet|immediately|urgent(ly)?|asap|soon|any ?time soon|in a hurry"
    r"|this (year|month|quarter|week))\b|\bno (rush|hurry)\b|\bin no (rush|hurry)\b"
)


def _prepare(text: str) -> str:
    """Lower-case, fix typos, number words to digits, "half a year" to "6 months"."""
    lowered = re.sub(r"\ba\.?s\.?a\.?p\.?", "asap", text.lower())
    lowered = re.sub(r"[^\w\s'/\-+.]", " ", lowered)
    lowered = fix_words(lowered, _TYPOS)
    words = []
    for word in lowered.split():
        if word.isalpha() and len(word) >= 5 and word not in _VOCABULARY | _NOT_TYPOS:
            word = _FUZZY.closest(word) or word
        words.append(word)
    lowered = " ".join(words)
    lowered = re.sub(r"\bhalf (a |an )?year\b", "6 months", lowered)
    lowered = re.sub(r"\b(a|one) (year|month) and (a )?half\b", r"1.5 \2s", lowered)
    lowered = re.sub(r"\bfortnights?\b", "2 weeks", lowered)
    lowered = re.sub(r"\bseveral\b", str(SEVERAL), lowered)
    lowered = numeric_text(lowered)
    return re.sub(r"\b(a|an|one) (day|week|month|year|quarter)\b", r"1 \2", lowered)


# -- calendar arithmetic ---------------------------------------------------------------------


def _until(today: dt.date, year: int, month: int) -> int:
    """Whole months from today's month to `month` of `year` (negative when in the past)."""
    return (year - today.year) * MONTHS_PER_YEAR + month - today.month


def _next_occurrence(today: dt.date, month: int) -> int:
    """Months until the next time it is `month` (0 if it is that month now)."""
    return (month - today.month) % MONTHS_PER_YEAR


def _quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


def _year_from(match: str | None) -> int | None:
    """Read a year written as 2027, '27, 27 or fy27."""
    if not match:
        return None
    digits = re.sub(r"\D", "", match)
    return int(digits) if len(digits) == 4 else 2000 + int(digits)


# -- rules: each returns whole months, _PAST, or None when it does not apply --------------------

Rule = Callable[[str, dt.date], int | None]
MatchRule = Callable[[re.Match[str], dt.date], int | None]


def _on_match(pattern: re.Pattern[str]) -> Callable[[MatchRule], Rule]:
    """A rule read from the first match of `pattern` (None where the text has none); the
    whole text is `match.string`."""

    def rule(read: MatchRule) -> Rule:
        @functools.wraps(read)
        def apply(text: str, today: dt.date) -> int | None:
            match = pattern.search(text)
            return read(match, today) if match else None

        return apply

    return rule


_QUARTER = re.compile(
    r"\b(?:(?P<end>end of|late|by the end of)\s+(?:the\s+)?)?"
    r"(?:q\s?(?P<q>[1-4])|(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|final|last)\s+quarter"
    r"(?:\s+of(?:\s+the)?(?=\s+(?:year|next|this|20\d\d|fy)))?)"
    r"(?:\s*(?:of\s+)?(?P<next>next year)|\s*(?:'|fy\s?|of\s+|,\s*)?(?P<year>20\d\d|\d\d)\b)?"
    r"|\b(?P<year_first>20\d\d)[\s-]?q(?P<q2>[1-4])\b"
)
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_ORDINALS |= {"fourth": 4, "4th": 4, "final": 4, "last": 4}


@_on_match(_QUARTER)
def _explicit_quarter(match: re.Match[str], today: dt.date) -> int | None:
    """Quarters ("Q3", "Q1 2027", "third quarter", "end of Q2"): months to its first month."""
    if match.group("ord") == "last" and not re.search(r"last quarter of", match.string):
        return None  # "last quarter" alone is the previous one
    quarter = int(match.group("q") or match.group("q2") or _ORDINALS[match.group("ord")])
    year = _year_from(match.group("year") or match.group("year_first"))
    if match.group("next"):
        year = today.year + 1
    month = 3 * quarter if match.group("end") else 3 * quarter - 2
    if year is not None:
        months = _until(today, year, month)
        if months < 0:
            in_it = year == today.year and _quarter_of(today.month) == quarter
            return 0 if in_it else _PAST
        return months
    if _quarter_of(today.month) == quarter:
        return 0 if not match.group("end") else month - today.month
    return _next_occurrence(today, month)


_HALF = re.compile(
    r"\b(?:h(?P<h>[12])|(?P<ord>first|1st|second|2nd) half)"
    r"(?:\s+(?:of\s+)?(?:the\s+)?(?:(?P<next>next year)|(?P<year>20\d\d)|year|this year))?"
)


@_on_match(_HALF)
def _half_year(match: re.Match[str], today: dt.date) -> int | None:
    """Half years ("H2", "second half of next year"): months to January or July."""
    half = int(match.group("h") or _ORDINALS[match.group("ord")])
    month = 1 if half == 1 else 7
    year = int(match.group("year")) if match.group("year") else None
    if match.group("next"):
        year = today.year + 1
    if year is None:
        in_it = (today.month >= 7) == (half == 2)
        return 0 if in_it else _next_occurrence(today, month)
    months = _until(today, year, month)
    if months < 0:
        return 0 if year == today.year else _PAST
    return months


_MONTH_NAME = re.compile(
    rf"\b(?:(?P<mod>early|beginning of|start of|mid|middle of|late|end of)[\s-]+)?"
    rf"(?:(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?)?"
    rf"(?P<month>{_MONTH_RE}|(?<=in )may|(?<=by )may|(?<=until )may|(?<=before )may|(?<=of )may"
    rf"|(?<=mid )may|(?<=mid-)may|(?<=early )may|(?<=late )may|^may(?=$|\s+\d))\b\.?"
    rf"(?:\s*(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*(?:months?|weeks?|years?|days?)))?"
    rf"(?:[\s,]*(?:of\s+)?(?:(?P<next>next year)|'(?P<short_year>\d\d)\b|(?P<year>20\d\d)\b))?"
)


@_on_match(_MONTH_NAME)
def _month_name(match: re.Match[str], today: dt.date) -> int | None:
    """Month names: "by March", "mid-June", "March 2027", "15th of May next year"."""
    name = match.group("month")
    month = _MONTHS.get(name) or _MONTH_ABBREVIATIONS[name[:4] if name == "sept" else name[:3]]
    year = _year_from(match.group("year") or match.group("short_year"))
    if match.group("next") or (year is None and re.search(r"\bnext year\b", match.string)):
        year = today.year + 1
    if year is None:
        return _next_occurrence(today, month)
    months = _until(today, year, month)
    return _PAST if months < 0 else months


_YEAR_PART = {
    "early": 1,
    "beginning of": 1,
    "start of": 1,
    "mid": 6,
    "middle of": 6,
    "late": 10,
    "end of": 12,
    "by the end of": 12,
    "before the end of": 12,
}
_PART = (
    r"(?P<part>early|beginning of|start of|mid|middle of|late|by the end of|before the end of"
    r"|end of)"
)
_NEXT_YEAR = re.compile(rf"(?:\b{_PART}[\s-]+(?:the\s+)?)?\bnext year\b|\bnew year\b")
_YEAR_AFTER_NEXT = re.compile(r"\byear after next\b|\bin 2 years' time\b")
_THIS_YEAR = re.compile(
    rf"(?:\b{_PART}[\s-]+(?:the\s+|this\s+)?)?\b(this|the|current) year\b|\bwithin the year\b"
    r"|\byear[- ]end\b|\bend of year\b"
)
_NUMBERED_YEAR = re.compile(
    rf"(?:\b{_PART}[\s-]+)?\b(?:fy\s?'?)?(?P<year>20\d\d)\b|\bfy\s?(?P<fy>\d\d)\b"
)


def _year_phrases(text: str, today: dt.date) -> int | None:
    """Years: "next year", "end of the year", "this year", "in 2027", "early 2028"."""
    if _YEAR_AFTER_NEXT.search(text):
        return _until(today, today.year + 2, 1)
    match = _NEXT_YEAR.search(text)
    if match:
        part = match.group("part") if match.group(0) != "new year" else None
        return max(1, _until(today, today.year + 1, _YEAR_PART.get(part or "", 1)))
    match = _THIS_YEAR.search(text)
    if match:
        part = match.group("part")
        if part is None and re.search(r"year[- ]end|end of year", match.group(0)):
            part = "end of"
        return _this_year(today, part)
    match = _NUMBERED_YEAR.search(text)
    if match:
        year = _year_from(match.group("year") or match.group("fy"))
        if year == today.year:
            return _this_year(today, match.group("part"))
        months = _until(today, year, _YEAR_PART.get(match.group("part") or "", 1))
        return _PAST if months < 0 else months
    return None


def _this_year(today: dt.date, part: str | None) -> int:
    """Within this calendar year: "this year" is half-way to December, "end of" is December.

    The midpoint says "some time before the year is out" without claiming it is now.
    """
    months_left = MONTHS_PER_YEAR - today.month
    target = _YEAR_PART.get(part or "")
    if target is None:
        return months_left // 2
    return max(0, target - today.month)


_RELATIVE_QUARTER = re.compile(
    r"\b(?P<end>end of |by the end of |before the end of )?(?:the )?"
    r"(?P<which>this|current|next|following|coming)? ?quarter(?:[- ]end)?\b"
)


@_on_match(_RELATIVE_QUARTER)
def _relative_quarter(match: re.Match[str], today: dt.date) -> int | None:
    """Relative quarters: "this quarter" is 0, "next quarter" its first month, "end of" its last."""
    if re.search(r"\d\s*quarters?\b", match.string):
        return None
    which = match.group("which")
    is_end = bool(match.group("end")) or match.group(0).endswith("end")
    if which is None and re.search(r"\b(within|during|in) the quarter\b", match.string):
        which, is_end = "this", True  # "within the quarter": before this one ends
    if which is None and not is_end:
        return None
    first = 3 * _quarter_of(today.month) - 2
    if which in ("next", "following", "coming"):
        first += 3
    target = first + 2 if is_end else first
    return max(0, target - today.month)


_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11)}
_SEASONS["winter"] = (12, 2)
_SEASON = re.compile(
    r"\b(?P<after>after )?(?:the )?(?P<next>next )?(?P<season>spring|summer|autumn|winter)\b"
    r"(?:\s+(?P<year>20\d\d))?"
    r"|\b(?P<after2>after )?(?:in |by |this |next |until |before |around |early |late |the )+"
    r"(?P<season2>fall)\b(?:\s+(?P<year2>20\d\d))?|^fall$"
)


@_on_match(_SEASON)
def _season(match: re.Match[str], today: dt.date) -> int | None:
    """Northern-hemisphere seasons: "in the summer" is June, or now if it is summer."""
    season = match.group("season") or match.group("season2") or "fall"
    start, end = _SEASONS[season]
    if match.group("after") or match.group("after2"):
        return _next_occurrence(today, end % 12 + 1)
    year = match.group("year") or match.group("year2")
    if year:
        months = _until(today, int(year), start)
        return _PAST if months < -2 else max(0, months)
    in_season = (today.month - start) % MONTHS_PER_YEAR <= (end - start) % MONTHS_PER_YEAR
    if in_season:
        return MONTHS_PER_YEAR - (today.month - start) % 12 if match.group("next") else 0
    return _next_occurrence(today, start)


_HOLIDAYS = re.compile(
    r"\b(?P<when>after|before|by|until|around|over|during)?\s*(?:the )?"
    r"(?P<what>christmas|xmas|holidays|new year's|new years)\b"
)


@_on_match(_HOLIDAYS)
def _holidays(match: re.Match[str], today: dt.date) -> int | None:
    """Holidays: "after the holidays" is January; "before Christmas" is December."""
    if match.group("when") == "after" or match.group("what").startswith("new year"):
        return _next_occurrence(today, 1)
    return _next_occurrence(today, 12)


_UNIT = r"days?|d|weeks?|w|months?|mos?|m|years?|y|quarters?|q"
_DURATION = re.compile(
    rf"(?P<n1>\d+(?:\.\d+)?)\s*(?:(?P<u1>{_UNIT})\b\s*)?"
    rf"(?:(?:-|to|or|and)\s*(?:maybe\s+|possibly\s+)?(?P<n2>\d+(?:\.\d+)?)\s*)?(?P<u2>{_UNIT})\b"
    r"(?!\s*ago)"
)


def _to_months(amount: float, unit: str) -> float:
    first = unit[0]
    if first == "d":
        return amount / DAYS_PER_MONTH
    if first == "w":
        return amount / WEEKS_PER_MONTH
    if first == "y":
        return amount * MONTHS_PER_YEAR
    if first == "q":
        return amount * 3
    return amount


def _duration(text: str, today: dt.date) -> int | None:
    """Durations: "in 3 months", "3-6 months" (midpoint, rounded down), "6 months to 1 year"."""
    for match in _DURATION.finditer(text):
        if re.search(r"\bnot\s*$", text[: match.start()]):
            continue  # "in 6 months, not 3 months"
        unit2 = match.group("u2")
        first = _to_months(float(match.group("n1")), match.group("u1") or unit2)
        if match.group("n2") is None:
            # Rounded to a tenth first: "90 days" is 2.96 months, and means three.
            return int(round(first, 1))
        second = _to_months(float(match.group("n2")), unit2)
        return int(round((first + second) / 2, 1))
    return None


_RELATIVE_MONTH = re.compile(
    r"\b(?P<month_after>month after next)\b|\b(?P<which>this|current|next|following|coming) month\b"
    r"|\b(?:end|rest) of (?:the )?month\b|\bwithin the month\b"
)


@_on_match(_RELATIVE_MONTH)
def _relative_month(match: re.Match[str], today: dt.date) -> int | None:
    """Relative months: "this month" is 0, "next month" 1, "the month after next" 2."""
    if match.group("month_after"):
        return 2
    return 1 if match.group("which") in ("next", "following", "coming") else 0


_IMMEDIATE = re.compile(
    r"\b(asap|as soon as (possible|we can|i can|feasible)|right away|straight away|right now"
    r"|immediately|immediate|urgent|urgently|yesterday|today|tomorrow|tonight|now|nowish"
    r"|this week|next week|coming weeks|next 2 weeks|in days|within days|at once|pronto"
    r"|already|currently|last week|last month|this weekend|as we speak|starting now"
    r"|(this |next |on |by )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b"
)
_SOON = re.compile(r"\b(soon|shortly|soonish|near future|near term|short term|not long)\b")
_COMING_MONTHS = re.compile(r"\b(coming|next|upcoming) months\b")


def _immediate(text: str, today: dt.date) -> int | None:
    """ASAP, now, this week and other "this month" answers are 0."""
    if _IMMEDIATE.search(text):
        return 0
    if _COMING_MONTHS.search(text):
        return 3
    return SOON_MONTHS if _SOON.search(text) else None


_SOMEDAY = re.compile(
    r"\b(whenever|someday|some day|eventually|at some point|one day|in the future|later|later on"
    r"|down the (road|line)|for a while|long term|long-term|when (we|i) (can|are ready|have budget)"
    r"|depends|no timeline|unknown)\b"
)

_FILLER = re.compile(
    r"\b(by|before|until|till|around|about|on|in|no later than|ideally|hopefully|probably|maybe"
    r"|we|i|want|would like|to|buy|purchase|start|sometime|some time|the|at|latest|it|be|will)\b"
)


_NUMERIC_DATE = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b")


@_on_match(_NUMERIC_DATE)
def _numeric_date(match: re.Match[str], today: dt.date) -> int | None:
    """Numeric dates (15/03/2027, 2027-05-01), read before "2027" is taken as a bare year."""
    return _explicit_date(match.group(0), today)


# What dateparser is asked about must look like a day of a month: "the 15th", "15.06", "on
# the 3rd of next month"; any other number is left alone (it is slow and finds dates anywhere).
_DATE_LIKE = re.compile(r"\b\d{1,2}(st|nd|rd|th)\b|\b\d{1,4}[/.-]\d{1,2}\b|\bthe \d{1,2}\b")


def _explicit_date(text: str, today: dt.date) -> int | None:
    """Last resort for dates like "the 15th" or "next tuesday", through dateparser."""
    remainder = re.sub(r"\s+", " ", _FILLER.sub(" ", text)).strip()
    if not remainder or len(remainder) > MAX_DATEPARSER_CHARS or not _DATE_LIKE.search(remainder):
        return None
    import dateparser  # slow to import; most answers never get here

    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": dt.datetime(today.year, today.month, today.day),
    }
    try:
        when = dateparser.parse(remainder, languages=["en"], settings=settings)
    except Exception:  # dateparser has many edge-case errors; an answer is never worth a crash
        return None
    if when is None:
        return None
    months = _until(today, when.year, when.month)
    return _PAST if months < 0 else months


_RULES: Tuple[Rule, ...] = (
    _numeric_date,
    _explicit_quarter,
    _half_year,
    _month_name,
    # Seasons and holidays before bare years: "by summer 2027" is June 2027, not January.
    _season,
    _holidays,
    _year_phrases,
    _relative_quarter,
    _duration,
    _relative_month,
    _immediate,
    _explicit_date,
)


def parse_timeline(text: str, today: dt.date) -> Parsed[int]:
    """Whole months until the visitor expects to buy; "just researching" is UNKNOWN, not an error.

    Ranges give their midpoint rounded down; "within N months" is taken as N.
    """
    text, verdict = screen(text)
    if verdict is not None:
        return verdict
    if is_researching(text):
        return UNKNOWN
    prepared = _prepare(text)
    without_not_now = _NOT_NOW.sub(" ", prepared)
    for rule in _RULES:
        months = rule(without_not_now, today)
        if months is not None:
            return invalid("past") if months == _PAST else ok(months)
    if without_not_now != prepared or _SOMEDAY.search(prepared) or is_unknown(text):
        return UNKNOWN
    return invalid("no_time")
