"""Text helpers shared by the answer parsers: clean-up, markup, "prefer not to say", "not sure".

Nothing here logs or stores the text: visitors' answers are personal data.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Iterable, Mapping, Tuple

from bot.answers._types import DECLINED, Parsed, invalid

# Longer messages are not answers to a single question (and could be pasted documents); refusing
# them early also bounds the work the regexes and fuzzy matchers do.
MAX_MESSAGE_CHARS = 1000

# Fuzzy phrase matching is only tried on short messages: on long ones a high similarity to
# "not sure" is meaningless and difflib gets slow.
MAX_FUZZY_PHRASE_CHARS = 40
PHRASE_CUTOFF = 0.85  # similarity needed for "perfer not to sya" to count as "prefer not to say"

_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u201c": '"'})
_DASHES = re.compile("[\u2010-\u2015\u2212]")
_SPACES = re.compile(r"\s+")

# Anything that looks like HTML, a script or an HTML entity. Free-text answers (name, company,
# role) refuse any angle bracket; numeric answers allow "<5k" and ">100".
_MARKUP = re.compile(
    r"<\s*/?\s*[a-z!?][^>]*>|<\s*(script|iframe|img|svg|style)|javascript\s*:|&(lt|gt|amp|#\d+);"
    r"|\bon(error|load|click|mouseover)\s*=",
    re.IGNORECASE,
)


def clean(text: object) -> str:
    """Normalise unicode, quotes, dashes and whitespace; tolerate None and non-strings."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text[: MAX_MESSAGE_CHARS * 4])
    text = _INVISIBLE.sub("", text).translate(_QUOTES).replace("\u201d", '"')
    text = _DASHES.sub("-", text)
    return _SPACES.sub(" ", text).strip()


def is_too_long(text: str) -> bool:
    return len(text) > MAX_MESSAGE_CHARS


def has_markup(text: str, strict: bool = False) -> bool:
    """True for HTML/script-like input; `strict` also refuses any angle bracket."""
    if strict and ("<" in text or ">" in text):
        return True
    return bool(_MARKUP.search(text))


def unusable(text: str, *, free_text: bool = False) -> str | None:
    """The error code for an answer no parser should try (nothing typed, a wall of text,
    markup), else None. Free-text answers (names, companies, titles) refuse any angle bracket,
    and say so before they say "too long"."""
    if not text:
        return "empty"
    if free_text and has_markup(text, strict=True):
        return "markup"
    if is_too_long(text):
        return "too_long"
    if has_markup(text):
        return "markup"
    return None


# One compiled pattern per typo table (the tables are module constants; the table is kept with
# its pattern so a reused id can't pick up another table's pattern).
_FIX_PATTERNS: dict[int, tuple[Mapping[str, str], re.Pattern[str]]] = {}


def fix_words(text: str, table: Mapping[str, str]) -> str:
    """Replace whole words (lower-case keys) using `table`; used for known typos."""
    if not table:
        return text
    cached = _FIX_PATTERNS.get(id(table))
    if cached is None or cached[0] is not table:
        pattern = re.compile(
            r"\b(" + "|".join(map(re.escape, sorted(table, key=len, reverse=True))) + r")\b"
        )
        cached = _FIX_PATTERNS[id(table)] = (table, pattern)
    return cached[1].sub(lambda m: table[m.group(1)], text)


def closest(word: str, vocabulary: Iterable[str], cutoff: float) -> str | None:
    """The vocabulary word most similar to `word`, if similar enough (difflib ratio)."""
    matches = difflib.get_close_matches(word, list(vocabulary), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def _deletions(word: str, depth: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class FuzzyVocabulary:
    """`closest()` for a fixed vocabulary, fast enough to run on every word of a sentence.

    difflib compares a word with every vocabulary entry (~3 ms for a few hundred words); here
    an index of each entry's 1- and 2-letter deletions finds the few entries within reach, and
    difflib only ranks those. A difflib ratio of 0.8 leaves at most two letters unmatched on
    each side in words of up to 12 letters, so the answer is the same as `closest()`'s there.
    """

    MAX_DELETIONS = 2

    def __init__(self, vocabulary: Iterable[str], cutoff: float) -> None:
        self.words = frozenset(vocabulary)
        self.cutoff = cutoff
        self._index: dict[str, set[str]] = {}
        for entry in self.words:
            for key in _deletions(entry, self.MAX_DELETIONS):
                self._index.setdefault(key, set()).add(entry)
        self._cache: dict[str, str | None] = {}

    def closest(self, word: str) -> str | None:
        if word in self.words:
            return word
        if word in self._cache:
            return self._cache[word]
        candidates: set[str] = set()
        for key in _deletions(word, self.MAX_DELETIONS):
            candidates |= self._index.get(key, set())
        found = closest(word, sorted(candidates), self.cutoff) if candidates else None
        if len(self._cache) < 10_000:  # bounded: visitors' words are unbounded
            self._cache[word] = found
        return found


# Frequent misspellings in refusals and hedges.
_PHRASE_TYPOS = {
    "perfer": "prefer",
    "prefere": "prefer",
    "prefr": "prefer",
    "prefeer": "prefer",
    "preffer": "prefer",
    "rahter": "rather",
    "rathr": "rather",
    "raher": "rather",
    "sya": "say",
    "shure": "sure",
    "sur": "sure",
    "suer": "sure",
    "knwo": "know",
    "kno": "know",
    "dont": "don't",
    "didnt": "didn't",
    "havent": "haven't",
    "wont": "won't",
    "cant": "can't",
    "id": "i'd",
    "im": "i'm",
    "buisness": "business",
    "busines": "business",
    "bussiness": "business",
    "confidental": "confidential",
    "confidencial": "confidential",
    "confidentail": "confidential",
    "reasearching": "researching",
    "researhcing": "researching",
    "reserching": "researching",
    "researchin": "researching",
    "lookin": "looking",
    "loking": "looking",
    "lookng": "looking",
    "browsin": "browsing",
    "brwosing": "browsing",
    "arround": "around",
    "aroud": "around",
    "decied": "decided",
    "decidd": "decided",
    "idk": "i don't know",
    "dunno": "don't know",
    "tbh": "",
}

_DECLINED = re.compile(
    r"\bprefer (not|no) (to )?(say|share|answer|tell|disclose|give|specify|reveal|comment)"
    r"|\bprefer not\b"
    r"|\brather (not|no)\b(?! (go|spend|have|be|exceed|pay|use|wait)\b)"
    r"|\b(won't|will not|not going to|not gonna|can't|cannot|do not|don't|wouldn't) "
    r"(want to |wish to |like to )?"
    r"(say|share|tell|disclose|reveal|give (that|it) out|answer that"
    r"|give( you)?( my| it| that| this| out)|provide( my| it| that)?)\b"
    r"(?! (yet|for sure|exactly|precisely))"
    r"|\bnot comfortable (sharing|saying|telling|giving|disclosing|answering)"
    r"|\b(none of your|mind your own) business\b|\bnunya\b"
    r"|\bconfidential\b|\bclassified\b|\bundisclosed\b|\bunder (an )?nda\b"
    r"|\b(that's|that is|it's|it is|thats|its) (private|a secret|secret|personal)\b"
    r"|\bnot telling\b|\bno comment\b|\bdecline to (say|answer|share)\b|\bi decline\b"
    r"|\b(not|don't) want to (say|share|tell|answer|disclose)\b|\bnot (for|to) share\b"
    r"|^(skip|pass)( (this|that|it))?( one| question)?( please| thanks)?$|\bnext question\b"
    r"|\bnot saying\b"
)
_DECLINED_WHOLE = re.compile(r"^(no|nope|nah|private|secret|not applicable to share)$")
_DECLINED_PHRASES = (
    "prefer not to say",
    "rather not say",
    "i'd rather not",
    "none of your business",
    "confidential",
    "no comment",
    "not telling",
    "prefer not to share",
)

# Researching / no plans: the visitor is not buying yet. Such a message wins over a stray time
# word ("just browsing for now" is not "now").
_RESEARCHING = re.compile(
    r"\b(just|only|simply|merely|mostly) (looking|browsing|researching|exploring|curious|checking"
    r"|window shopping|doing (some )?research|gathering (info|information)|comparing)"
    r"|\bbrowsing\b|\b(doing (some )?)?research(ing)?\b(?! (budget|project|team|department))"
    r"|\b(research|looking|early|exploration|exploratory|discovery|browsing"
    r"|information[- ]gathering) (phase|stage|mode)\b|\bexploring( options| the market)?\b"
    r"|\bwindow shopping\b|\bkicking the tyres\b|\bkicking the tires\b"
    r"|\bno (concrete |real |firm |set |fixed )?(plans?|timeline|time ?frame|deadline|date)"
    r"( yet| as of now| for now)?\b"
    r"|\bnot (planning|buying|purchasing|in the market)\b|\bjust curious\b|\bjust looking\b"
)

# Hedges: "not sure", "no idea". Parsers try the value first, so "not sure, maybe 50" is 50.
_UNKNOWN = re.compile(
    r"\bnot (really |quite |too |so |entirely |100% )?(sure|certain|decided|known|clear)\b"
    r"|\bunsure\b|\buncertain\b|\bno (idea|clue|clue yet|idea yet)\b|\bnot a clue\b"
    r"|\b(i |we )?(don't|do not|didn't|did not) (really |actually )?know\b"
    r"|\btb[dc]\b|\bto be (determined|decided|confirmed|defined|discussed|agreed)\b"
    r"|\bundecided\b|\b(haven't|have not|hasn't|has not|not yet|not) (yet )?"
    r"(decided|determined|defined|figured( (it|that) out)?|worked (it|that) out|settled"
    r"|finali[sz]ed)\b"
    r"|\b(hard|difficult|tough|impossible) to (say|tell|know)\b|\b(it )?depends\b|\bunknown\b"
    r"|\bunclear\b|\bcan't say\b|\bcannot say\b|\bwho knows\b|\bgood question\b"
    r"|\bhaven't (thought|looked) (about|into) (it|that)\b|\bno (firm )?(number|figure|estimate)\b"
    r"|^\?+$|^(n/?a|na|\?\?|-+|\.+|idk|unknown|dunno|hmm+|um+|uh+)$"
)
_UNKNOWN_PHRASES = (
    "not sure",
    "no idea",
    "i don't know",
    "just looking",
    "just looking around",
    "just browsing",
    "just researching",
    "only researching",
    "no plans yet",
    "haven't decided",
    "to be determined",
    "not decided yet",
)


def phrase_text(text: str) -> str:
    """Lower-case `text` with punctuation relaxed and frequent typos fixed, for phrase checks."""
    lowered = re.sub(r"[!.,;:)(\"]+", " ", text.lower())
    lowered = fix_words(lowered, _PHRASE_TYPOS)
    return _SPACES.sub(" ", lowered).strip()


def _fuzzy_phrase(lowered: str, phrases: Iterable[str]) -> bool:
    if not lowered or len(lowered) > MAX_FUZZY_PHRASE_CHARS:
        return False
    return closest(lowered, phrases, PHRASE_CUTOFF) is not None


def is_declined(text: str, whole_no: bool = False) -> bool:
    """True when the visitor prefers not to answer; `whole_no` also takes a bare "no"."""
    lowered = phrase_text(text)
    if _DECLINED.search(lowered) or _fuzzy_phrase(lowered, _DECLINED_PHRASES):
        return True
    return whole_no and bool(_DECLINED_WHOLE.match(lowered))


def screen(
    text: str, *, free_text: bool = False, whole_no: bool = False
) -> Tuple[str, Parsed | None]:
    """What every parser does first: the cleaned answer, and the verdict given before reading it
    (INVALID when it is unusable, DECLINED when the visitor prefers not to say); None: read on.
    `free_text` and `whole_no` are passed to `unusable` and `is_declined`."""
    text = clean(text)
    error = unusable(text, free_text=free_text)
    if error:
        return text, invalid(error)
    if is_declined(text, whole_no=whole_no):
        return text, DECLINED
    return text, None


def is_researching(text: str) -> bool:
    """True for "just looking around", "only researching", "no plans yet"."""
    return bool(_RESEARCHING.search(phrase_text(text)))


def is_unknown(text: str) -> bool:
    """True when the visitor says they don't know (or are only researching)."""
    lowered = phrase_text(text)
    return bool(
        _UNKNOWN.search(lowered)
        or _RESEARCHING.search(lowered)
        or _fuzzy_phrase(lowered, _UNKNOWN_PHRASES)
    )


_QUESTION_START = re.compile(
    r"^(why|what|who|how|where|when|which|whats|what's|why's|do|does|did|can|could|would|should"
    r"|is|are|will|may)\b",
    re.IGNORECASE,
)


def is_question(text: str) -> bool:
    """True for "why do you need that?"-style messages: a question, not an answer."""
    stripped = text.strip()
    return stripped.endswith("?") or bool(_QUESTION_START.match(stripped))


# Words that announce a correction of something said before.
CORRECTION_MARKER = re.compile(
    r"\b(no,? wait|wait|sorry|i mean|i meant|meant to say|actually|correction|make (that|it)"
    r"|scratch that|oops|whoops|my bad|mistyped|typo|typed (the |it )?wrong|wrong|mistake"
    r"|should (be|have been|read|have said)|or rather|let me correct|correcting|change (that|it) to"
    r"|update|instead)\b",
    re.IGNORECASE,
)
