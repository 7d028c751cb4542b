"""Name and company: free text, cleaned of the chatter around it."""

from __future__ import annotations

import re
import unicodedata
from typing import Tuple

from bot.answers._text import (
    is_question,
    is_unknown,
    screen,
)
from bot.answers._types import DECLINED, UNKNOWN, Parsed, invalid, ok
from bot.answers.requests import is_request

# The longest real names are well under this; longer text is a sentence, not a name.
MAX_NAME_CHARS = 80
# "Maria de los Angeles Garcia Lopez" has 6 words; more is a sentence.
MAX_NAME_WORDS = 6
# Company names ("The Royal Bank of Scotland Group plc") are longer than people's names.
MAX_COMPANY_CHARS = 120
MAX_COMPANY_WORDS = 12

SELF_EMPLOYED = "Self-employed"

_GREETING = re.compile(
    r"^((sure thing|hi|hello|hey|hiya|howdy|yo|sure|ok|okay|yes|yeah|yep|well|um+|uh+|so|oh|ah"
    r"|right"
    r"|of course|no problem|certainly|absolutely|thanks|thank you|there|sorry|oops"
    r"|my bad|good (morning|afternoon|evening))\b[\s,!.:-]*)+",
    re.IGNORECASE,
)
_NAME_LEAD = re.compile(
    r"^(my (full |first |real |given )?name'?s?( is)?|the name'?s?( is)?|name('s| is)?\s*[:=-]?"
    r"|full name\s*[:=-]?|you can call me|they call me|call me|i'?m called|i am called"
    r"|(my friends|friends|everyone|people|most people|folks) (all )?calls? me|i go by|go by"
    r"|this is|it'?s|it is|i'?m|i am|im|me is|me:?)(?=\W|$)\s*[:=-]?\s*",
    re.IGNORECASE,
)
_TRAILER = re.compile(
    r"([\s,;:.!-]*\b(thanks|thank you|thx|ty|cheers|here|speaking|please|pls|lol|:\))\b)+[\s.!]*$"
    r"|[\s,;:!?]+$|^[\"']+|[\"']+$",
    re.IGNORECASE,
)
_NAME_TAIL = re.compile(
    r"\s*[,;]?\s+\b(from|at|with|of|and i|and we|i work|i'm|im|but|nice to meet you|everyone"
    r"|i)\b.*$",
    re.IGNORECASE,
)
_SYMBOLS = frozenset({"So", "Sk", "Cs", "Co"})  # emoji and other pictographs: not part of a name
_URL = re.compile(r"https?://|www\.|\.(com|net|org|io|co|de|uk)\b", re.IGNORECASE)
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "la"})
_PARTICLES |= frozenset({"le", "bin", "al", "el", "dos", "das", "ten", "ter", "y", "zu"})


def _strip_around(text: str, lead: re.Pattern[str]) -> str:
    """Drop greetings, lead-ins ("my name is") and trailing "thanks" / punctuation."""
    previous = None
    while previous != text:
        previous = text
        text = _GREETING.sub("", text).strip()
        text = lead.sub("", text, count=1).strip()
        text = _TRAILER.sub("", text).strip()
    return text


def _capitalise_word(word: str, first: bool) -> str:
    """Capitalise one name word: mcdonald -> McDonald, o'neil -> O'Neil, mary-jane -> Mary-Jane."""
    if not first and word in _PARTICLES:
        return word
    parts = re.split(r"([-'])", word)
    out = []
    for part in parts:
        if part.startswith("mc") and len(part) > 2:
            out.append("Mc" + part[2:].capitalize())
        else:
            out.append(part.capitalize())
    return "".join(out)


def _title_case(name: str) -> str:
    """Title-case a name typed all lower or all upper; keep casing the visitor chose otherwise."""
    letters = [c for c in name if c.isalpha()]
    if not letters or not (name == name.lower() or name == name.upper()):
        return name
    return " ".join(_capitalise_word(w, i == 0) for i, w in enumerate(name.lower().split()))


def _cut_tail(name: str) -> str:
    """Drop what follows the name: "Jane Doe (she/her)", "Jane Doe, CTO at Acme" -> "Jane Doe".

    A comma followed by a single capitalised word is kept: "Doe, Jane" is still a name.
    """
    name = name.split("(")[0].strip()
    head, comma, tail = name.partition(",")
    lower_tail = tail.strip()[:1].islower()  # "Kofi Mensah, head of ops"
    if comma and (len(tail.split()) != 1 or tail.strip().isupper() or lower_tail):
        return head.strip()
    return name


def _strip_final_dot(name: str) -> str:
    """Drop a final full stop, except after an initial or Jr./Sr. ("Jane D.", "John Smith Jr.")."""
    if not name.endswith("."):
        return name
    last = name.split()[-1].rstrip(".")
    if len(last) == 1 or last.lower() in ("jr", "sr", "dr", "st"):
        return name
    return name.rstrip(".").rstrip()


def _looks_like_name(name: str) -> bool:
    letters = sum(c.isalpha() for c in name)
    digits = sum(c.isdigit() for c in name)
    if letters == 0 or digits >= letters or "@" in name or _URL.search(name):
        return False
    return len(name.split()) <= MAX_NAME_WORDS


_ANONYMOUS = re.compile(r"(?i)anon(ymous)?\.?\Z")  # matched from the start: the whole answer
_STEALTH = re.compile(r"(?is).*?\bstealth\b")  # a company in stealth mode: won't say


def _free_text(
    text: str, declines: re.Pattern[str], error: str, whole_no: bool = False
) -> Tuple[str, str, Parsed[str] | None]:
    """What a name and a company answer go through first: the shared screen, a way of declining
    of their own (`declines`, matched from the start), a question or a request instead of an
    answer (`error`). Returns the screened text, that text without emoji and pictographs, and
    the verdict if there is one already (then the rest is not read)."""
    text, verdict = screen(text, free_text=True, whole_no=whole_no)
    if verdict is None and declines.match(text):
        verdict = DECLINED
    if verdict is None and (is_question(text) or is_request(text)):
        verdict = invalid(error)
    return text, "".join(c for c in text if unicodedata.category(c) not in _SYMBOLS), verdict


def parse_name(text: str) -> Parsed[str]:
    """The visitor's name, without "my name is" and "thanks", title-cased if typed in one case."""
    text, name, verdict = _free_text(text, _ANONYMOUS, "not_a_name", whole_no=True)
    if verdict is not None:
        return verdict
    name = _cut_tail(_NAME_TAIL.sub("", _strip_around(name.strip(), _NAME_LEAD)).strip())
    name = _strip_final_dot(name)
    if not name:  # only emoji, or only "my name is"
        return invalid("not_a_name")
    if len(name) > MAX_NAME_CHARS:
        return invalid("too_long")
    if not _looks_like_name(name):
        return invalid("not_a_name")
    return ok(_title_case(name))


_COMPANY_LEAD = re.compile(
    r"^(i (currently )?(work|am working|'m working) (at|for|with|in)( a company called)?"
    r"|i (study|am studying|'m studying|'m a student) (at|in)( the)?"
    r"|(i'?m|i am) (currently )?(at|with|from|employed (at|by))"
    r"|we are|we'?re|it'?s|it is|this is|i represent|i'?m representing|representing"
    r"|(the |my |our )?(company|employer|organi[sz]ation|firm|business|startup|agency)"
    r"( name)?( is| is called|'s name is|'s called| called)?\s*[:=-]?"
    r"|(it'?s |we'?re )?called|(currently )?(working (at|for)|employed (at|by)|at|with)"
    r"|from|at|for)\s*[:=-]?\s+",
    re.IGNORECASE,
)
# What follows a company's name and is about it, not part of it: "Acme Corp, but we're being
# acquired", "Globex - we make sensors", "Hooli in their Berlin office".
_COMPANY_TAIL = re.compile(
    r"(\s*,\s*|\s+-+\s+|\s*\(\s*)(a|an|the|but|and|so|we|we're|we are|which|who|based|though"
    r"|although|it's|its|i|i'm|part|our|just|mostly|headquartered|located|in|on|from|for|with"
    r"|as|since|doing|making|selling)\b.*$"
    r"|\s+(in|at) (their|the|our|its|a|an) \w+( \w+)? (office|branch|site|team|location|hq)\b.*$"
    r"|\s+(based|located|headquartered) (in|out of)\b.*$",
    re.IGNORECASE,
)
_SELF_EMPLOYED_SAID = re.compile(
    r"\b(i'?m|i am) (a |an )?(freelancer|self[- ]?employed|sole trader|independent consultant"
    r"|solopreneur|contractor)\b|\bjust (myself|me)\b|\bwork for myself\b|\bmy own boss\b",
    re.IGNORECASE,
)
_CALLED = re.compile(r"\b(called|named)\s+(?P<name>.+)$", re.IGNORECASE)
_SCHEME = re.compile(r"^(https?://)?(www\.)?", re.IGNORECASE)
_SELF_EMPLOYED = re.compile(
    r"^(i'?m |i am |we'?re )?(a |an )?(self[- ]?employed|freelanc(e|er|ing)|independent"
    r"( consultant| contractor)?|sole (trader|proprietor)|solopreneur|contractor|just me|myself"
    r"|my own( company| business)?|own business|none|no company|n/?a|nobody|no employer"
    r"|i work for myself|work for myself|i'?m my own boss|on my own)\.?$",
    re.IGNORECASE,
)
# Legal suffixes whose final dot belongs to the name ("Acme Inc.").
_ABBREVIATED_SUFFIX = re.compile(
    r"\b(inc|ltd|co|corp|bros|intl|llc|plc|pty|s\.a|n\.v|b\.v|s\.l|l\.p|p\.c|ltda|cia|ag|sa)\.$",
    re.IGNORECASE,
)


def _strip_company_punctuation(name: str) -> str:
    """Trailing punctuation goes, except the dot of "Inc." or "S.A."."""
    name = re.sub(r"[\s,;:!?]+$", "", name)
    if name.endswith(".") and not _ABBREVIATED_SUFFIX.search(name):
        name = name.rstrip(".").rstrip()
    return name


def parse_company(text: str) -> Parsed[str]:
    """The company's name as typed ("ACME GmbH", "globex"); freelancers get "Self-employed"."""
    text, name, verdict = _free_text(text, _STEALTH, "not_a_company")
    if verdict is not None:
        return verdict
    name = _strip_around(name.strip(), _COMPANY_LEAD)
    called = _CALLED.search(name)
    if called:
        name = called.group("name")
    name = _strip_company_punctuation(_SCHEME.sub("", name.strip(" \"'")).rstrip("/"))
    if _SELF_EMPLOYED.match(name) or _SELF_EMPLOYED.match(text) or _SELF_EMPLOYED_SAID.search(text):
        return ok(SELF_EMPLOYED)
    name = _COMPANY_TAIL.sub("", name).strip()
    if is_unknown(text) and len(name.split()) > 1:
        return UNKNOWN
    if not name:  # only emoji or punctuation
        return invalid("not_a_company")
    if len(name) > MAX_COMPANY_CHARS:
        return invalid("too_long")
    if "@" in name or not any(c.isalnum() for c in name):
        return invalid("not_a_company")
    if len(name.split()) > MAX_COMPANY_WORDS:
        return invalid("not_a_company")
    return ok(name)
