"""Job title and the seniority bucket that lead scoring uses."""

from __future__ import annotations

import re
from typing import List, Set

from bot.answers._role_cues import role_cue
from bot.answers._text import (
    FuzzyVocabulary,
    clean,
    fix_words,
    is_question,
    is_unknown,
    screen,
)
from bot.answers._types import UNKNOWN, Parsed, invalid, ok
from bot.answers.requests import asks_for_person, is_request

MAX_ROLE_CHARS = 100
MAX_ROLE_WORDS = 12
FUZZY_CUTOFF = 0.8  # "directr" -> "director", "mangr" -> "manager"
MIN_FUZZY_LENGTH = 4  # shorter tokens are abbreviations ("vp", "cto"), never fuzzy-matched
# A title kept from a sentence is short: "head of marketing", not the whole sentence.
MAX_TITLE_WORDS_IN_SENTENCE = 6

SENIORITIES = ("c_level", "vp", "director", "manager", "individual", "student", "other")

_ROLE_LEAD = re.compile(
    r"^(i'?m|i am|im)( currently| now)?( the| a| an| our| their| its| in)?\s+"
    r"|^(i work|i'm working|i am working|working|i'm employed|i am employed|employed|i serve|i act)"
    r"( as| in)?( the| a| an)?\s+"
    r"|^(my |current |job )?(job )?(title|role|position)( is|'s)?\s*[:=-]?\s*(the |a |an )?"
    r"|^as( the| a| an)?\s+",
    re.IGNORECASE,
)
_ROLE_TRAILER = re.compile(
    r"\s*(\b(at|@|with)\b|@)\s+.*$|[\s,]+(here|thanks|thank you|thx|cheers)\b.*$|[\s.!,;:]+$",
    re.IGNORECASE,
)


def _cue_text(text: str) -> str:
    """Lower-case text for the sentence cues; "lead gen" is a field, not leading anything."""
    lowered = re.sub(r"\bim\b", "i'm", text.lower())
    return re.sub(r"\b(lead|demand)[- ]?gen(eration)?\b", "leadgen", lowered)


def _extract_title(text: str) -> str:
    title = text
    for _ in range(3):
        title = _ROLE_TRAILER.sub("", _ROLE_LEAD.sub("", title, count=1)).strip()
    return title


def _title_error(title: str) -> str | None:
    if not title:
        return "empty"
    if len(title) > MAX_ROLE_CHARS:
        return "too_long"
    letters = sum(c.isalpha() for c in title)
    if (
        "@" in title
        or re.search(r"https?://|www\.", title)
        or letters <= sum(c.isdigit() for c in title)
    ):
        return "not_a_role"
    if len(title.split()) > MAX_ROLE_WORDS:
        return "not_a_role"
    return None


def _best_title(title: str, level: str) -> str | None:
    """The typed title, or the part before its first comma, when it alone says `level`."""
    for candidate in (title, title.split(",")[0].strip()):
        if (
            candidate
            and len(candidate.split()) <= MAX_TITLE_WORDS_IN_SENTENCE
            and _title_error(candidate) is None
            and classify_seniority(candidate) == level
        ):
            return candidate
    return None


def parse_role(text: str) -> Parsed[str]:
    """The visitor's job title, without "I'm the" or "at Acme"; casing as typed.

    A role told as a sentence ("I look after IT for a 40-person firm", "my boss asked me to
    look into this") is stored as a short title that carries its seniority ("IT lead",
    "Team member") unless the sentence holds a title that says the same.
    """
    text, verdict = screen(text, free_text=True, whole_no=True)
    if verdict is not None:
        return verdict
    cue = role_cue(_cue_text(text))
    if asks_for_person(text) or (cue is None and (is_question(text) or is_request(text))):
        return invalid("not_a_role")  # "get me a sales rep" names a role, but asks for a person
    if cue is None and is_unknown(text):
        return UNKNOWN
    title = _extract_title(text)
    if cue is not None:
        level = classify_seniority(text)
        typed = _best_title(title, level) if level != "other" else None
        if typed is not None:
            return ok(typed)
        if cue.seniority == level:
            return ok(cue.title)
    elif "," in title:
        head, _, tail = title.partition(",")
        level = classify_seniority(head)
        if level != "other" and classify_seniority(tail) == "other":
            title = head.strip()  # "software engineer, mostly backend"
    error = _title_error(title)
    return invalid(error) if error else ok(title)


# -- seniority --------------------------------------------------------------------------------

# Abbreviations and common misspellings, applied to lower-case tokens before anything else.
_ABBREVIATIONS = {
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "jnr": "junior",
    "dir": "director",
    "dr": "director",
    "mgr": "manager",
    "mngr": "manager",
    "mgmt": "management",
    "eng": "engineering",
    "engr": "engineer",
    "ops": "operations",
    "mktg": "marketing",
    "mkt": "marketing",
    "dev": "developer",
    "devs": "developer",
    "swe": "software engineer",
    "sde": "software engineer",
    "pm": "product manager",
    "tpm": "program manager",
    "em": "engineering manager",
    "gm": "general manager",
    "md": "managing director",
    "ae": "account executive",
    "am": "account manager",
    "csm": "customer success manager",
    "hr": "human resources",
    "it": "it",
    "exec": "executive",
    "asst": "assistant",
    "assoc": "associate",
    "coord": "coordinator",
    "admin": "administrator",
    "sysadmin": "administrator",
    "cheif": "chief",
    "cheef": "chief",
    "ceo's": "ceo",
    "cofounder": "cofounder",
    "cofunder": "cofounder",
    "pres": "president",
    "prez": "president",
    "presdent": "president",
    "sofware": "software",
    "softare": "software",
    "engeneer": "engineer",
    "enginer": "engineer",
    "engneer": "engineer",
    "enginner": "engineer",
    "maneger": "manager",
    "manger": "manager",
    "mangr": "manager",
    "menager": "manager",
    "direktor": "director",
    "directeur": "director",
    "directora": "director",
    "direttore": "director",
    "geschaftsfuhrer": "managing director",
    "geschäftsführer": "managing director",
    "geschäftsführerin": "managing director",
    "inhaber": "owner",
    "inhaberin": "owner",
    "gerente": "manager",
    "ingeniero": "engineer",
    "ingenieur": "engineer",
    "entwickler": "developer",
    "desarrollador": "developer",
    "fundador": "founder",
    "fondateur": "founder",
    "gründer": "founder",
    "grunder": "founder",
    "praktikant": "intern",
    "stagiaire": "intern",
    "estudiante": "student",
    "étudiant": "student",
    "etudiant": "student",
    "studentin": "student",
    "leiter": "head",
    "leiterin": "head",
    "abteilungsleiter": "head",
    "jefe": "head",
    "responsable": "manager",
}

_C_LEVEL_ACRONYMS = frozenset(
    {
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cmo",
        "cio",
        "cro",
        "cpo",
        "cso",
        "cdo",
        "cco",
        "cao",
        "cbo",
        "cxo",
        "ciso",
        "chro",
        "cgo",
        "clo",
        "cno",
    }
)
_VP_WORDS = frozenset({"vp", "svp", "evp", "avp", "rvp", "gvp", "vpe", "vps"})
_C_LEVEL_WORDS = frozenset(
    {
        "founder",
        "owner",
        "president",
        "chairman",
        "chairwoman",
        "chairperson",
        "chair",
        "proprietor",
        "cofounder",
        "clevel",
        "csuite",
    }
)
_DIRECTOR_WORDS = frozenset({"director", "head", "directors"})
_MANAGER_WORDS = frozenset(
    {"manager", "lead", "leader", "supervisor", "foreman", "management", "managers"}
)
_STUDENT_WORDS = frozenset(
    {
        "student",
        "intern",
        "internship",
        "undergrad",
        "undergraduate",
        "postgrad",
        "trainee",
        "apprentice",
        "doctoral",
        "pupil",
        "studying",
        "werkstudent",
        "grad",
        "graduate",
        "candidate",
    }
)
_INDIVIDUAL_WORDS = frozenset(
    {
        "engineer",
        "developer",
        "programmer",
        "coder",
        "analyst",
        "specialist",
        "consultant",
        "designer",
        "marketer",
        "sdr",
        "bdr",
        "associate",
        "coordinator",
        "administrator",
        "accountant",
        "bookkeeper",
        "scientist",
        "architect",
        "recruiter",
        "representative",
        "rep",
        "assistant",
        "officer",
        "technician",
        "writer",
        "copywriter",
        "editor",
        "researcher",
        "salesperson",
        "salesman",
        "saleswoman",
        "sales",
        "agent",
        "advisor",
        "adviser",
        "clerk",
        "strategist",
        "planner",
        "buyer",
        "teacher",
        "lecturer",
        "professor",
        "trainer",
        "instructor",
        "nurse",
        "doctor",
        "physician",
        "lawyer",
        "attorney",
        "paralegal",
        "operator",
        "tester",
        "qa",
        "devops",
        "sre",
        "freelancer",
        "contractor",
        "employee",
        "staff",
        "member",
        "generalist",
        "expert",
        "professional",
        "executive",
        "auditor",
        "controller",
        "economist",
        "journalist",
        "photographer",
        "artist",
        "producer",
        "marketing",
        "engineering",
        "support",
        "ux",
        "ui",
        "it",
        "estimator",
        "investigator",
        "pharmacist",
        "therapist",
        "librarian",
        "translator",
        "copy",
        "secretary",
        "receptionist",
        "cashier",
        "driver",
        "mechanic",
        "electrician",
        "advocate",
        "evangelist",
        "ambassador",
        "owner's",
        "worker",
        "chef",
        "scrum",
        "self-employed",
    }
)
_OTHER_WORDS = frozenset(
    {
        "unemployed",
        "retired",
        "jobless",
        "homemaker",
        "housewife",
        "househusband",
        "volunteer",
        "investor",
    }
)
# Words that are not titles but appear in them; listed so fuzzy matching leaves them alone
# ("founding" must not become "founder", "direction" not "director").
_NEUTRAL_WORDS = frozenset(
    {
        "of",
        "and",
        "the",
        "for",
        "in",
        "to",
        "senior",
        "junior",
        "principal",
        "staff",
        "chief",
        "vice",
        "executive",
        "general",
        "managing",
        "deputy",
        "interim",
        "acting",
        "regional",
        "global",
        "national",
        "international",
        "founding",
        "direction",
        "development",
        "developing",
        "analytics",
        "consulting",
        "management",
        "managed",
        "operations",
        "product",
        "products",
        "technology",
        "technical",
        "software",
        "hardware",
        "systems",
        "information",
        "security",
        "data",
        "finance",
        "financial",
        "people",
        "human",
        "resources",
        "business",
        "customer",
        "success",
        "growth",
        "revenue",
        "strategy",
        "digital",
        "design",
        "content",
        "brand",
        "communications",
        "legal",
        "compliance",
        "account",
        "accounts",
        "project",
        "program",
        "programme",
        "partner",
        "partnerships",
        "channel",
        "platform",
        "infrastructure",
        "quality",
        "services",
        "service",
        "team",
        "office",
        "officer",
        "innovation",
        "research",
        "science",
        "learning",
        "machine",
        "frontend",
        "backend",
        "stack",
        "full",
        "mobile",
        "cloud",
        "network",
        "solutions",
        "solution",
        "procurement",
        "purchasing",
        "supply",
        "chain",
        "logistics",
        "medical",
        "clinical",
        "phd",
        "university",
        "college",
        "school",
        "company",
        "firm",
        "small",
        "startup",
        "agency",
        "retail",
        "store",
        "shop",
        "creative",
        "social",
        "media",
        "public",
        "relations",
        "north",
        "america",
        "europe",
        "emea",
        "apac",
        "latam",
        "area",
        "region",
        "country",
        "local",
        "field",
        "inside",
        "enterprise",
        "commercial",
        "corporate",
        "assistant",
        "associate",
        "master",
        "board",
        "member",
        "process",
        "talent",
        "acquisition",
        "demand",
        "generation",
        "performance",
        "paid",
        "sales",
        "student",
        "intern",
        "self",
        "employed",
        "freelance",
    }
)
# Functions of a company: someone who only names one works in it.
_DEPARTMENT_WORDS = frozenset(
    {
        "finance",
        "accounting",
        "accounts",
        "legal",
        "compliance",
        "operations",
        "procurement",
        "purchasing",
        "resources",
        "product",
        "design",
        "security",
        "customer",
        "success",
        "growth",
        "revenue",
        "communications",
        "logistics",
        "content",
        "brand",
        "data",
        "analytics",
    }
)
_VOCABULARY: Set[str] = set().union(
    _VP_WORDS,
    _C_LEVEL_WORDS,
    _DIRECTOR_WORDS,
    _MANAGER_WORDS,
    _STUDENT_WORDS,
    _INDIVIDUAL_WORDS,
    _OTHER_WORDS,
    _NEUTRAL_WORDS,
    {"president", "chief", "partner", "principal", "owner", "vice", "vicepresident"},
)

# "csuite" and "clevel" are made from "C-suite" above, never typed: "site" must not become one.
_FUZZY_VOCABULARY = FuzzyVocabulary(_VOCABULARY - {"csuite", "clevel"}, FUZZY_CUTOFF)

_OTHER_PEOPLE = (
    r"(ceo|cto|cfo|coo|cmo|president|founder|founders|director|board|managing director|vp"
    r"|chairman|owner|boss|manager|line manager|supervisor|head of \w+|team lead|management)"
)
_PHRASES_TO_DROP = re.compile(
    # "assistant to the CEO" is an assistant; "lead generation" and "head of" a team are not
    # the visitor's own leadership. "chief of staff" is treated as director level below.
    # Someone else's title ("my boss", "asked by our CEO") says nothing about the visitor's.
    rf"\b(to|for|of|by|with|reporting to|report to|reports to) (the|our|my) {_OTHER_PEOPLE}\b"
    rf"|\b(my|our|their|his|her)( line| direct)? {_OTHER_PEOPLE}\b"
    r"|\blead[- ]?gen(eration)?\b|\bdemand gen(eration)?\b"
)


def _tokens(title: str) -> List[str]:
    """Lower-case tokens with abbreviations expanded and typos fuzzy-corrected."""
    lowered = title.lower().replace(".", "").replace("&", " and ")
    lowered = re.sub(r"\bc[- ](level|suite)\b", r"c\1", lowered)
    lowered = re.sub(r"\bself[- ]employed\b", "self-employed", lowered)
    lowered = re.sub(r"[^\w\s'-]|(?<!\w)-|-(?!\w)|-(?!employed)", " ", lowered)
    lowered = fix_words(lowered, _ABBREVIATIONS)
    lowered = re.sub(r"\bvice president\b", "vicepresident", lowered)
    lowered = re.sub(r"\bco founder\b", "cofounder", lowered)
    lowered = _PHRASES_TO_DROP.sub(" ", lowered)
    tokens = []
    for token in lowered.split():
        if len(token) >= MIN_FUZZY_LENGTH and token.isalpha() and token not in _VOCABULARY:
            token = _FUZZY_VOCABULARY.closest(token) or token
        tokens.append(token)
    joined = " ".join(tokens).replace("vice president", "vicepresident")
    return joined.replace("co founder", "cofounder").split()


def _has_phrase(tokens: List[str], phrase: str) -> bool:
    return f" {phrase} " in f" {' '.join(tokens)} "


def _is_c_level(tokens: List[str]) -> bool:
    """Owners, founders, presidents, chief-anything officers and managing directors.

    "managing director" is the top job in UK/German companies; "partner" and a lone
    "principal" run professional-services firms, so both count as c-level.
    """
    words = set(tokens)
    if words & _C_LEVEL_ACRONYMS or words & (_C_LEVEL_WORDS - {"owner", "chair"}):
        return True
    if "owner" in words and not (
        _has_phrase(tokens, "product owner") or _has_phrase(tokens, "process owner")
    ):
        return True
    if "chair" in words and not _has_phrase(tokens, "chair of"):
        return True
    if "chief" in words and not _has_phrase(tokens, "chief of staff"):
        return True
    if _has_phrase(tokens, "managing director") or _has_phrase(tokens, "executive director"):
        return True
    if "partner" in words and _is_firm_partner(tokens):
        return True
    return tokens in (["principal"], ["board", "member"]) or _has_phrase(tokens, "board member")


def _is_firm_partner(tokens: List[str]) -> bool:
    """True for firm partners ("managing partner"); not "partner manager", "HR business partner"."""
    index = tokens.index("partner")
    after = tokens[index + 1 :]
    before = tokens[:index]
    if after and after[0] not in ("and", "at", "in"):
        return False
    return not before or before[-1] in (
        "managing",
        "senior",
        "founding",
        "general",
        "equity",
        "name",
    )


def _title_seniority(text: str) -> str:
    """One of SENIORITIES from a title's words; the highest level mentioned wins.

    Decisions: "general manager" and "chief of staff" are director level; "product owner" is
    manager level (like a product manager); "team lead" and "lead X" are manager level;
    "principal engineer" is an individual contributor, a lone "principal" runs a firm.
    """
    tokens = _tokens(text)
    if not tokens:
        return "other"
    words = set(tokens)
    if _is_c_level(tokens):
        return "c_level"
    if words & _VP_WORDS or "vicepresident" in words:
        return "vp"
    if words & _DIRECTOR_WORDS or _has_phrase(tokens, "general manager"):
        return "director"
    if _has_phrase(tokens, "chief of staff"):
        return "director"
    if words & _MANAGER_WORDS or _has_phrase(tokens, "product owner"):
        return "manager"
    if _is_student(tokens):
        return "student"
    if words & _OTHER_WORDS:
        return "other"
    if words & _INDIVIDUAL_WORDS or "partner" in words:
        return "individual"
    if words & _DEPARTMENT_WORDS:
        return "individual"  # a bare function ("HR", "finance") is someone working in it
    return "other"


def classify_seniority(title: str) -> str:
    """One of SENIORITIES for a job title or a sentence about one; the highest level wins.

    A title's own words decide first; when they say no more than "individual", what the
    sentence says about the visitor decides ("I look after IT" runs IT, "my boss asked me"
    is not the decision maker, "final year at uni" is a student).
    """
    if not isinstance(title, str):
        return "other"
    text = clean(title)[:200]
    level = _title_seniority(text)
    if level in ("other", "individual"):
        cue = role_cue(_cue_text(text))
        if cue is not None:
            return cue.seniority
    return level


def _is_student(tokens: List[str]) -> bool:
    words = set(tokens)
    if words & (_STUDENT_WORDS - {"grad", "graduate", "candidate"}):
        return True
    if "phd" in words and words & {"candidate", "student", "researcher"}:
        return True
    if words & {"grad", "graduate"} and words & {"student", "school"}:
        return True
    return bool(words & {"university", "college"}) and not (words & _INDIVIDUAL_WORDS)
