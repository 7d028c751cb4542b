"""Finding amounts in free text: number words, separators, k/m multipliers, ranges, "not N".

Shared by the company-size and budget parsers. Works on lower-cased text from `numeric_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import List

from bot.answers._text import CORRECTION_MARKER, fix_words

# Misspelt number and multiplier words seen in chat logs.
_NUMBER_TYPOS = {
    "fourty": "forty",
    "ninty": "ninety",
    "nintey": "ninety",
    "twnety": "twenty",
    "tweny": "twenty",
    "thrity": "thirty",
    "fivety": "fifty",
    "fiftey": "fifty",
    "fity": "fifty",
    "sixy": "sixty",
    "eigthy": "eighty",
    "eightty": "eighty",
    "fiveteen": "fifteen",
    "fithteen": "fifteen",
    "ninteen": "nineteen",
    "tweleve": "twelve",
    "twelf": "twelve",
    "hundered": "hundred",
    "hunderd": "hundred",
    "hundrad": "hundred",
    "hundret": "hundred",
    "thousnad": "thousand",
    "thousnd": "thousand",
    "thousend": "thousand",
    "thosand": "thousand",
    "thousan": "thousand",
    "tousand": "thousand",
    "thoushand": "thousand",
    "milion": "million",
    "millon": "million",
    "milllion": "million",
    "mllion": "million",
    "billon": "billion",
    "grnad": "grand",
}

_CARDINAL = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen"
    r"|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety)"
)
_SCALE = r"(?:hundred|thousand|million|billion)"
# A run of number words: "two hundred and fifty", "forty-five". "and" is only part of a number
# after a scale word, so "between fifty and eighty" stays two numbers.
_WORD_RUN = re.compile(
    rf"\b{_CARDINAL}(?:[\s-]+{_CARDINAL}\b|[\s-]+{_SCALE}\b(?:\s+and(?=\s+{_CARDINAL}\b))?)*\b"
)

# Idioms read before number words are converted ("a hundred", "half a million") ...
_PRE_IDIOMS = (
    (re.compile(r"\bhalf (a|an|one) (million|mil|mill|mn|m)\b"), "500000"),
    (re.compile(r"\b(a )?quarter (of )?(a |one )?(million|mil|mill)\b"), "250000"),
    (re.compile(r"\b(a|one) (hundred|thousand|million|billion)\b"), r"one \2"),
    (re.compile(r"\ba (grand|mil|mill)\b"), r"1 \1"),
)
# ... and after, so that "two dozen" is already "2 dozen".
_POST_IDIOMS = (
    (re.compile(r"\bhalf (a|an) dozen\b"), "6"),
    (re.compile(r"\b(a )?couple (of )?dozen\b"), "24"),
    (re.compile(r"\b(\d+) dozen\b"), lambda m: str(int(m.group(1)) * 12)),
    (re.compile(r"\b(a|one) dozen\b|\bdozen\b"), "12"),
    (re.compile(r"\b(a )?couple (of )?"), "2 "),
    (re.compile(r"\b(a )?few\b"), "3"),
    (re.compile(r"\b(a )?handful( of)?\b"), "5"),
    (re.compile(r"(\d+) and (a )?half\b"), r"\1.5"),
)

# 1 000 000 / 1 000 with (narrow) spaces as thousands separators.
_SPACED_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})((?:[ \u00a0\u202f]\d{3})+)(?![\d.,]\d)")

_MULTIPLIERS = {
    "hundred": 100,
    "k": 1_000,
    "thousand": 1_000,
    "thousands": 1_000,
    "thou": 1_000,
    "grand": 1_000,
    "lakh": 100_000,
    "lakhs": 100_000,
    "lac": 100_000,
    "lacs": 100_000,
    "m": 1_000_000,
    "mm": 1_000_000,
    "mn": 1_000_000,
    "mil": 1_000_000,
    "mill": 1_000_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "crore": 10_000_000,
    "crores": 10_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
_MULT_RE = "|".join(sorted(map(re.escape, _MULTIPLIERS), key=len, reverse=True))

# Currency written before or after the number; mapped to ISO codes in `CURRENCY_CODES`.
_CUR_BEFORE = (
    r"us\$|usd\$|c\$|ca\$|cad\$|a\$|au\$|aud\$|\$|€|£|¥|₹|rs\.?|usd|eur|gbp|cad|aud|chf|inr|jpy"
)
_CUR_AFTER = (
    r"us dollars|usd|dollars?|bucks|eur|euros?|gbp|pounds?( sterling)?|quid|sterling|cad|aud"
    r"|chf|swiss francs?|francs?|inr|rupees?|jpy|yen|\$|€|£"
)
CURRENCY_CODES = {
    "$": "USD",
    "us$": "USD",
    "usd$": "USD",
    "usd": "USD",
    "us dollars": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "c$": "CAD",
    "ca$": "CAD",
    "cad$": "CAD",
    "cad": "CAD",
    "a$": "AUD",
    "au$": "AUD",
    "aud$": "AUD",
    "aud": "AUD",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "pound sterling": "GBP",
    "pounds sterling": "GBP",
    "quid": "GBP",
    "sterling": "GBP",
    "chf": "CHF",
    "franc": "CHF",
    "francs": "CHF",
    "swiss franc": "CHF",
    "swiss francs": "CHF",
    "¥": "JPY",
    "jpy": "JPY",
    "yen": "JPY",
    "₹": "INR",
    "rs": "INR",
    "rs.": "INR",
    "inr": "INR",
    "rupee": "INR",
    "rupees": "INR",
}

_QUANTITY = re.compile(
    rf"(?:(?P<cur1>{_CUR_BEFORE})\s*)?"
    r"(?P<num>\d+(?:[.,']\d+)*)"
    rf"(?:\s*(?P<mult>{_MULT_RE})(?![a-z]))?"
    r"(?P<plus>\s*\+)?"
    rf"(?:\s*(?P<cur2>{_CUR_AFTER})(?![a-z]))?"
)

# Between two numbers, these make a range: "200 to 500", "50-100k", "40 or 50".
_RANGE_GAP = re.compile(r"^\s*(-|to|till|until|through|thru|or|/|and)\s*(maybe |perhaps )?$")
_NEGATION_BEFORE = re.compile(
    r"(\bnot|n't|\binstead of|\brather than|\bno longer|\bnever)\s*"
    r"(even |like |about |around |quite |really |exactly |the |a )?$"
)


@dataclass(frozen=True)
class Quantity:
    """One amount found in the text, with where it was and what was written around it."""

    value: float  # multiplier applied
    raw: float  # as written, before the multiplier
    multiplier: int
    start: int
    end: int
    currency: str | None = None  # ISO code when a symbol or word was attached
    negative: bool = False
    is_range: bool = False


_UNITS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
        " fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    word: 10 * value
    for value, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)
}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


def word_number(run: str) -> int | None:
    """The value of English number words ("two hundred and fifty", "forty-five"), or None when
    they don't form one number ("twenty twenty", "five six").

    Ours rather than a library's: number-parser rebuilt its tables on every call (~3 ms).
    """
    total = current = 0
    last = ""  # kind of the previous word: unit, ten, hundred, scale
    for word in re.split(r"[\s-]+", run.strip()):
        if word == "and" and last in ("hundred", "scale"):
            continue
        if word in _UNITS:
            if last in ("unit",) or (last == "ten" and (_UNITS[word] >= 10 or not _UNITS[word])):
                return None
            current += _UNITS[word]
            last = "unit"
        elif word in _TENS:
            if last in ("unit", "ten"):
                return None
            current += _TENS[word]
            last = "ten"
        elif word == "hundred":
            if last not in ("unit", "ten") or current >= 100:
                return None
            current *= 100
            last = "hundred"
        elif word in _SCALES:
            if last not in ("unit", "ten", "hundred") or current == 0:
                return None
            total += current * _SCALES[word]
            current = 0
            last = "scale"
        else:
            return None
    return total + current if last else None


def _words_to_digits(text: str) -> str:
    """Turn number words into digits ("two hundred" -> "200") without touching ordinals."""

    def convert(match: re.Match[str]) -> str:
        run = match.group(0)
        value = word_number(run)
        if value is None:
            return " ".join(
                str(value) if (value := word_number(word)) is not None else word
                for word in re.split(r"[\s-]+", run)
            )
        return str(value)

    return _WORD_RUN.sub(convert, text)


def numeric_text(text: str) -> str:
    """Lower-case `text` with typos fixed, idioms and number words as digits, "~" as "about"."""
    lowered = text.lower().replace("~", " about ").replace("≈", " about ")
    lowered = fix_words(lowered, _NUMBER_TYPOS)
    for pattern, replacement in _PRE_IDIOMS:
        lowered = pattern.sub(replacement, lowered)
    lowered = _words_to_digits(lowered)
    for pattern, replacement in _POST_IDIOMS:
        lowered = pattern.sub(replacement, lowered)
    return _SPACED_THOUSANDS.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), lowered)


def to_float(number: str, has_multiplier: bool) -> float:
    """Read "1,500", "1.500", "2,5", "1'000", "1.234,56" the way the visitor most likely meant."""
    number = number.replace("'", "")
    if "," in number and "." in number:
        decimal = "," if number.rfind(",") > number.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return float(number.replace(thousands, "").replace(decimal, "."))
    for sep in (",", "."):
        if sep not in number:
            continue
        head, *groups = number.split(sep)
        if len(groups) > 1:
            return float(number.replace(sep, ""))  # 1,000,000 or 1.000.000
        thousands = len(groups[0]) == 3 and 1 <= len(head) <= 3 and head != "0"
        if thousands and not (sep == "." and has_multiplier):  # but "1.500k" is 1.5k
            return float(head + groups[0])
        return float(head + "." + groups[0])
    return float(number)


def _is_negative(text: str, start: int) -> bool:
    """A minus sign right before the number, not the dash of a range like "10-20"."""
    before = text[:start].rstrip()
    if not before.endswith("-"):
        return False
    rest = before[:-1].rstrip()
    return not rest or not re.search(rf"(\d|\b(?:{_MULT_RE})|\+)$", rest)


def find_quantities(text: str) -> List[Quantity]:
    """All amounts in `text` (already `numeric_text`), in order, with currency and sign."""
    found = []
    for match in _QUANTITY.finditer(text):
        mult_word = match.group("mult")
        multiplier = _MULTIPLIERS[mult_word] if mult_word else 1
        try:
            raw = to_float(match.group("num"), bool(mult_word))
        except ValueError:
            continue
        currency_word = match.group("cur1") or match.group("cur2")
        found.append(
            Quantity(
                value=raw * multiplier,
                raw=raw,
                multiplier=multiplier,
                start=match.start(),
                end=match.end(),
                currency=CURRENCY_CODES.get(currency_word.strip()) if currency_word else None,
                negative=_is_negative(text, match.start()),
            )
        )
    return found


def _negated(text: str, quantity: Quantity) -> bool:
    """True for the "450" in "45 people, not 450": the visitor is ruling that number out."""
    clause_start = max(text.rfind(c, 0, quantity.start) for c in ",.;!?") + 1
    return bool(_NEGATION_BEFORE.search(text[clause_start : quantity.start]))


def _after_last_correction(text: str, quantities: List[Quantity]) -> List[Quantity]:
    """Keep only the numbers given after the last "sorry, I meant" (when any come after it)."""
    markers = [m.end() for m in CORRECTION_MARKER.finditer(text)]
    for position in reversed(markers):
        later = [q for q in quantities if q.start >= position]
        if later:
            return later
    return quantities


def _merge_ranges(text: str, quantities: List[Quantity]) -> List[Quantity]:
    """Replace "lo to hi" pairs by their integer midpoint; a multiplier on hi also applies to lo."""
    merged: List[Quantity] = []
    i = 0
    while i < len(quantities):
        lo = quantities[i]
        hi = quantities[i + 1] if i + 1 < len(quantities) else None
        gap = text[lo.end : hi.start] if hi else ""
        match = _RANGE_GAP.match(gap) if hi else None
        if (
            hi
            and match
            and (match.group(1) != "and" or text[: lo.start].rstrip().endswith("between"))
        ):
            lo_value = lo.value
            if lo.multiplier == 1 and hi.multiplier > 1 and lo.raw <= hi.raw:
                lo_value = lo.raw * hi.multiplier  # "between 50 and 80k", "5-10k"
            midpoint = (int(round(lo_value)) + int(round(hi.value))) // 2
            merged.append(
                replace(
                    hi,
                    value=midpoint,
                    raw=midpoint,
                    multiplier=max(lo.multiplier, hi.multiplier),
                    start=lo.start,
                    currency=hi.currency or lo.currency,
                    negative=lo.negative,
                    is_range=True,
                )
            )
            i += 2
        else:
            merged.append(lo)
            i += 1
    return merged


def candidate_quantities(text: str) -> List[Quantity]:
    """Amounts the visitor means: ranges merged, "not N" dropped, corrections honoured."""
    quantities = [q for q in find_quantities(text) if not _negated(text, q)]
    quantities = _after_last_correction(text, quantities)
    return _merge_ranges(text, quantities)


def followed_by(text: str, quantity: Quantity, pattern: re.Pattern[str]) -> bool:
    """True when the words right after the amount match `pattern` (e.g. "people")."""
    return bool(pattern.match(text[quantity.end : quantity.end + 40].lstrip()))
