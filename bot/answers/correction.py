"""Corrections mid-form: "wait, it's 45 people, not 450" changes an earlier answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Tuple

from bot.answers._text import CORRECTION_MARKER, clean, has_markup, is_too_long

SLOTS = ("name", "email", "role", "company", "company_size", "budget", "timeline")
_NUMERIC_SLOTS = ("company_size", "budget", "timeline")


@dataclass(frozen=True)
class Correction:
    """Which answer the visitor is correcting, and the words that hold the new value."""

    slot: str
    text: str


_EXTRA_MARKERS = re.compile(
    r"\b(change|update|fix|correct) (my|the|our)\b|,\s*not\s+\S+\s*\w*\s*$|\bnot\s+\S+,?\s+but\b"
    r"|\b(instead of|rather than)\b|\bi (gave|typed|entered|put|wrote) (you )?(the |my )?wrong\b"
)

_MONTH_NAMES = (
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|june?|july?|aug(ust)?|sep(t|tember)?|oct(ober)?"
    r"|nov(ember)?|dec(ember)?"
)
# Keyword rules in priority order: "the company is 500 people" is about size, not the company.
_SLOT_KEYWORDS: Tuple[Tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"@|\be-?mail\b|\bmail address\b|\binbox\b")),
    (
        "company_size",
        re.compile(
            r"\b(people|persons|employees?|staff|headcount|team size|company size|ppl|ftes?"
            r"|workers|of us|heads|team of|we'?re \d+|we are \d+|size)\b"
        ),
    ),
    (
        "budget",
        re.compile(
            r"\b(budget|spend|spending|afford|dollars?|bucks|euros?|pounds|quid|grand|usd|eur|gbp"
            r"|figures)\b|[$€£¥₹]|\d\s*(k|m|mil|million|bn|thousand)\b"
        ),
    ),
    (
        "timeline",
        re.compile(
            rf"\b(timeline|time ?frame|months?|weeks?|years?|quarters?|q[1-4]|asap|soon|deadline"
            rf"|immediately|next (month|year|quarter)|this (month|year|quarter)|{_MONTH_NAMES})\b"
        ),
    ),
    ("company", re.compile(r"\b(company|firm|organi[sz]ation|employer)('s)? name\b")),
    (
        "name",
        re.compile(
            r"\b(my name|name is|name's|call me|spell(ed|ing)?|surname|first name|last name)\b"
        ),
    ),
    (
        "role",
        re.compile(
            r"\b(title|role|position|job|i'?m the|i am the|i work as|ceo|cto|cfo|coo|vp"
            r"|director|manager|head of|engineer|founder|owner)\b"
        ),
    ),
    (
        "company",
        re.compile(
            r"\b(company|firm|organi[sz]ation|employer|work (at|for)|startup|agency|corp|inc"
            r"|ltd|gmbh|llc|plc)\b"
        ),
    ),
)

_LEAD_NOISE = re.compile(
    # A leading "no" is noise only as an interjection ("no, it's 45"): "no budget" is a value.
    r"^((oh|ah|hmm|um|uh|ok|okay)\b[\s,.!:-]*|no\s*[,.!:-]+\s*|(no )?wait\b|sorry\b|oops\b"
    r"|whoops\b|my bad\b"
    r"|actually\b|correction\b|i mean\b|i meant( to say)?\b|meant to say\b|make (that|it)\b"
    r"|scratch that\b|or rather\b|let me correct( that| myself)?\b|to be (exact|precise)\b"
    r"|(change|update|fix|correct) (that|it|my \w+|the \w+|our \w+)( to)?\b|update\b"
    r"|should (be|have been)\b"
    r"|it should (be|have been|say)\b|i should have said\b)[\s,.!:;-]*",
    re.IGNORECASE,
)
_ANYWHERE_NOISE = re.compile(
    r"\b(actually|sorry|oops|really|i meant|i mean)\b[\s,]*", re.IGNORECASE
)
_NEGATED = re.compile(
    r"[\s,]*\b(not|instead of|rather than)\s+[^,.;!?]*?(?=\s*(,|;|!|\?|\bbut\b|$|\.(\s|$)))",
    re.IGNORECASE,
)
_WRONG_CLAUSE = re.compile(
    r"[^,.;:!?]*\b(wrong|typo|mistake|mistyped|misspelt|misspelled)\b[^,.;:!?]*", re.IGNORECASE
)
_VALUE_LEAD = re.compile(
    r"^(but|to|it'?s|it is|that'?s|that is|its|is|=|spel(led|t|l)( it)?( as)?"
    r"|(my|the|our) (\w+ )?(name|e-?mail( address)?|"
    r"company( name)?|title|role|position|job title|budget|timeline|team size|company size|"
    r"headcount)( is|'s| should be| should read)?)\b[\s:=,-]*",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")


def is_correction(text: str) -> bool:
    """True when the message announces that something said earlier was wrong."""
    return bool(CORRECTION_MARKER.search(text) or _EXTRA_MARKERS.search(text.lower()))


def _slot_from_keywords(lowered: str) -> str | None:
    for slot, pattern in _SLOT_KEYWORDS:
        if pattern.search(lowered):
            return slot
    return None


def _value_text(text: str, slot: str) -> str:
    """The words holding the new value: markers, "not 450" and "I typed the wrong…" removed."""
    if slot == "email":
        found = _EMAIL.findall(text)
        return found[-1].rstrip(".!?") if found else ""
    value = text
    previous = None
    while previous != value:
        previous = value
        value = _LEAD_NOISE.sub("", value).strip()
    value = _WRONG_CLAUSE.sub("", value)
    value = _NEGATED.sub("", value)
    value = _ANYWHERE_NOISE.sub("", value)
    chunks = [c.strip() for c in re.split(r"[,;:]|\.(?:\s|$)", value) if re.search(r"\w", c)]
    value = chunks[-1] if chunks else ""
    for _ in range(2):
        value = _VALUE_LEAD.sub("", value).strip()
    return value.strip(" .!?,;:-")


def detect_correction(
    text: str,
    last_filled_slot: str | None = None,
    requested_slot: str | None = None,
) -> Correction | None:
    """The slot being corrected and its new value's text, or None if this is no correction.

    The slot comes from keywords ("people", "budget", "email"), then from the value's shape (a
    bare number corrects the last answer), then `last_filled_slot`; `requested_slot` only when
    nothing else fits.
    """
    text = clean(text)
    if not text or is_too_long(text) or has_markup(text) or not is_correction(text):
        return None
    lowered = text.lower()
    slot = _slot_from_keywords(lowered)
    if slot is None:
        for candidate in (last_filled_slot, requested_slot):
            if candidate in SLOTS:
                slot = candidate
                break
    if slot is None:
        return None
    return Correction(slot=slot, text=_value_text(text, slot))
