"""Budget: what the visitor expects to spend per year, in whole US dollars."""

from __future__ import annotations

import re
from typing import List, Mapping

from bot.answers._numbers import (
    CURRENCY_CODES,
    Quantity,
    candidate_quantities,
    followed_by,
    numeric_text,
)
from bot.answers._text import (
    fix_words,
    is_researching,
    is_unknown,
    screen,
)
from bot.answers._types import UNKNOWN, Parsed, invalid, ok
from bot.config.currency import DEFAULT_RATES as CURRENCY_DEFAULTS

# Callers pass the operator's rates; these defaults keep parsing working without them.
DEFAULT_RATES = CURRENCY_DEFAULTS

# Periods per year. Bare amounts are annual: that is the question the bot asks.
MONTHS_PER_YEAR = 12
QUARTERS_PER_YEAR = 4
WEEKS_PER_YEAR = 52

_PERIOD_TYPOS = {
    "montly": "monthly",
    "monthy": "monthly",
    "mothly": "monthly",
    "monhtly": "monthly",
    "mnthly": "monthly",
    "monthely": "monthly",
    "mnth": "month",
    "mth": "month",
    "monht": "month",
    "moth": "month",
    "anually": "annually",
    "annualy": "annually",
    "anualy": "annually",
    "anual": "annual",
    "yearley": "yearly",
    "yaer": "year",
    "yera": "year",
    "quaterly": "quarterly",
    "quartely": "quarterly",
    "quarterley": "quarterly",
    "quater": "quarter",
    "weekley": "weekly",
    "wekly": "weekly",
    "budjet": "budget",
    "bugdet": "budget",
}
_MONTHLY = re.compile(
    r"/\s*(mo|mon|month|mth|m)\b|\b(per|a|an|each|every|x)\s*(month|mo|mos)\b|\bmonthly\b"
    r"|\bpm\b|\bp/m\b|\bpcm\b|\bmonth(ly)? (budget|spend|cost|fee)|\ba mo\b|\bmo\b"
)
_QUARTERLY = re.compile(
    r"/\s*(q|qtr|quarter)\b|\b(per|a|each|every)\s*(quarter|qtr)\b|\bquarterly\b"
)
_WEEKLY = re.compile(r"/\s*(w|wk|week)\b|\b(per|a|each|every)\s*(week|wk)\b|\bweekly\b")
_PERIODS = ((_MONTHLY, MONTHS_PER_YEAR), (_QUARTERLY, QUARTERS_PER_YEAR), (_WEEKLY, WEEKS_PER_YEAR))
_ANNUAL = re.compile(
    r"/\s*(y|yr|year)\b|\b(per|a|each|every)\s*(year|yr|annum)\b|\b(annually|annual|yearly|pa|p\.a\.)\b"
)

# "six figures" is read as its lowest value (100,000): a floor is safer for qualification than a
# guess. "mid" and "high" move within the band: mid five figures is 50,000.
_FIGURES = re.compile(
    r"\b(?:(low|lower|mid|middle|high|upper|solid|healthy)[\s-]*)?([4-9])[\s-]*figures?\b"
)
_FIGURE_FACTOR = {"mid": 5, "middle": 5, "high": 8, "upper": 8}

_ZERO = re.compile(
    r"\b(no budget|zero|nothing|nil|nada|none|no money|free|(don't|do not) have (a |any )?budget|"
    r"haven't got (a |any )?budget|no funds|0)\b"
)
_NOT_DECIDED = re.compile(
    r"\b(no|not|haven't|hasn't|have not) (a )?(budget )?(been )?(set|decided|defined|determined|"
    r"finali[sz]ed|agreed|approved|allocated yet)\b"
    r"|\b(haven't|have not|hasn't|has not|not yet|didn't|did not|we've not|i've not)"
    r" (really |yet )?"
    r"(thought about|worked out|figured out|looked at|looked into|sorted( out)?|discussed|got to"
    r"|talked about|set)\b"
)
# Numbers that are not money: "10% of revenue", "for 2 years", "20 users".
_NOT_MONEY = re.compile(
    r"(%|(percent|years?|yrs?|months?|weeks?|days?|hours?|users?|seats?|licen[cs]es?|people|"
    r"employees|staff|agents|reps|per cent)\b)"
)
_YEAR = re.compile(r"^(19|20)\d\d$")
_MENTIONED_CURRENCY = re.compile(
    r"\b(canadian|cad|aussie|australian|aud|swiss|chf|euros?|eur|pounds?|gbp|sterling|quid|"
    r"rupees?|inr|yen|jpy|usd|dollars?|bucks)\b|[€£¥₹$]"
)
_DOLLAR_KIND = {"canadian": "CAD", "aussie": "AUD", "australian": "AUD", "swiss": "CHF"}


def _money(text: str, quantities: List[Quantity]) -> Quantity | None:
    """The amount meant as money: one with a currency or multiplier first, else the first."""
    usable = [
        q
        for q in quantities
        if q.currency or q.multiplier > 1 or q.is_range or not followed_by(text, q, _NOT_MONEY)
    ]
    marked = [q for q in usable if q.currency or q.multiplier > 1]
    if marked:
        return marked[0]
    plain = [q for q in usable if not _YEAR.match(str(int(q.value)))]
    return (plain or usable or [None])[0]


def _currency(text: str, quantity: Quantity) -> str:
    """ISO code of the amount: its own symbol, refined by "canadian dollars", else any mention."""
    mentioned = [m.group(0) for m in _MENTIONED_CURRENCY.finditer(text)]
    code = quantity.currency
    for word in mentioned:
        if word in _DOLLAR_KIND and code in (None, "USD"):
            return _DOLLAR_KIND[word]
    if code:
        return code
    for word in mentioned:
        if word in CURRENCY_CODES:
            return CURRENCY_CODES[word]
    return "USD"


def _periods_per_year(text: str, quantity: Quantity) -> int:
    """How many times a year the amount is spent: the period nearest after it, else before it."""
    after, before = text[quantity.end :], text[: quantity.start]
    if _ANNUAL.match(after.lstrip()):
        return 1
    for pattern, factor in _PERIODS:
        if pattern.match(after.lstrip()):
            return factor
    nearest_after = [(m.start(), f) for p, f in _PERIODS if (m := p.search(after))]
    annual_after = _ANNUAL.search(after)
    if nearest_after:
        position, factor = min(nearest_after)
        if not annual_after or position < annual_after.start():
            return factor
    if annual_after:
        return 1
    nearest_before = [(m.end(), f) for p, f in _PERIODS if (m := p.search(before))]
    return max(nearest_before)[1] if nearest_before else 1


def _figures(text: str) -> str:
    """Replace "low six figures" and friends by a plain number."""

    def amount(match: re.Match[str]) -> str:
        digits = int(match.group(2))
        return str(_FIGURE_FACTOR.get(match.group(1) or "", 1) * 10 ** (digits - 1))

    return _FIGURES.sub(amount, text)


def parse_budget(text: str, rates: Mapping[str, float] | None = None) -> Parsed[int]:
    """Annual budget in whole USD; monthly/quarterly/weekly amounts are annualised.

    Bounds are taken at face value ("under 5k" is 5,000, "10k+" is 10,000): the visitor named
    that number, and the sales team reads it as the budget's order of magnitude.
    """
    rates = DEFAULT_RATES if rates is None else rates
    text, verdict = screen(text)
    if verdict is not None:
        return verdict
    lowered = _figures(fix_words(numeric_text(text), _PERIOD_TYPOS))
    quantity = _money(lowered, candidate_quantities(lowered))
    if quantity is not None and is_researching(text) and quantity.value > 0:
        quantity = None  # "just researching" with a stray number is not a budget
    if quantity is None:
        if is_unknown(text) or _NOT_DECIDED.search(lowered):
            return UNKNOWN
        return ok(0) if _ZERO.search(lowered) else invalid("no_amount")
    if quantity.negative:
        return invalid("no_amount")
    code = _currency(lowered, quantity)
    if code not in rates:
        return invalid("currency")
    return ok(int(round(quantity.value * rates[code] * _periods_per_year(lowered, quantity))))
