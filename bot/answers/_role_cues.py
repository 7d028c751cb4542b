"""Roles told as sentences rather than titles: "I look after IT", "my boss asked me to look into
this", "I'm in my final year at uni". Each cue gives a seniority and a short title to store.

Cues only speak when the words of a title say little (no title at all, or only an individual
contributor's): "I'm the CTO and I run the company" is c-level from its title already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Tuple

# Words that end the object of "I look after …": "IT for a 40-person firm" is "IT".
_OBJECT = r"(?:the |our |a |an |all (?:of )?(?:the |our )?|my |their )?(?P<what>[a-z][\w&/' -]*?)"
_OBJECT_END = (
    r"(?=\s*(?:$|[,.;!?(]|\s-\s|\b(?:for|at|in|with|and|but|so|here|over|across|of a|of an|of our"
    r"|of the|from|since|because|which|where|who|while|now|currently|right now|too)\b))"
)
_SUBJECT = (
    r"(?:^|\bi |\bi'm |\bi am |\bim |\band |, )"
    r"(?:currently |basically |mainly |mostly |now |also )?"
)

# Things one owns or runs as a whole: running one of these is running the company.
_COMPANY_WORDS = (
    r"company|business|firm|startup|start-up|agency|studio|shop|store|practice|place|show|outfit"
    r"|consultancy|venture|organi[sz]ation|operation|brand|restaurant|bakery|clinic|salon|cafe"
    r"|(?:[\w-]+ ){0,3}(?:company|business|firm|agency|studio|shop|chain|practice|consultancy)"
)
_DEPARTMENT = r"(?:department|dept|division|function|org|organisation|organization|unit)"


@dataclass(frozen=True)
class RoleCue:
    """What a sentence says about the visitor's position: the seniority and a title to store."""

    seniority: str
    title: str


def _tidy(what: str) -> str:
    """The object as a short phrase: "the marketing team" -> "marketing"."""
    what = re.sub(r"\b(team|teams|side|stuff|things|dept|department)\b", " ", what)
    what = re.sub(r"\s+", " ", what).strip(" -/&'")
    words = what.split()
    if not words or len(words) > 4:
        return ""
    return " ".join(w.upper() if w in ("it", "hr", "ops", "qa", "ux", "seo") else w for w in words)


def _owner(match: re.Match[str]) -> RoleCue:
    said = match.group(0)
    title = "Founder" if re.search(r"found|start|set up|built", said) else "Owner"
    return RoleCue("c_level", title)


def _first_what(match: re.Match[str]) -> str:
    for name, value in match.groupdict().items():
        if name.startswith("what") and value:
            return value
    return ""


def _head_from(match: re.Match[str]) -> RoleCue:
    what = _tidy(_first_what(match))
    return RoleCue("director", f"Head of {what}" if what else "Head of department")


def _lead_from(match: re.Match[str]) -> RoleCue:
    what = _first_what(match)
    if re.fullmatch(rf"(?:{_COMPANY_WORDS})", what.strip()):
        return RoleCue("c_level", "Owner")
    what = _tidy(what)
    return RoleCue("manager", f"{what} lead" if what else "Team lead")


def _member_from(match: re.Match[str]) -> RoleCue:
    what = _tidy(_first_what(match))
    return RoleCue("individual", f"{what} team member" if what else "Team member")


def _delegated(match: re.Match[str]) -> RoleCue:
    return RoleCue("individual", "Team member")


def _student(match: re.Match[str]) -> RoleCue:
    return RoleCue("student", "Student")


_CUES: Tuple[Tuple[re.Pattern[str], Callable[[re.Match[str]], RoleCue]], ...] = (
    # owners and founders
    (
        re.compile(
            rf"{_SUBJECT}(?:own|co-?own|started|founded|co-?founded|set up|built|run|ran|manage)"
            rf" (?:the|this|my|our|a|an|my own)? ?(?:little |small |tiny |family )?"
            rf"(?:{_COMPANY_WORDS})\b"
            r"|\bi own\b|\bi'?m (?:the|my own|our) boss\b|\bi am (?:the|my own|our) boss\b"
            r"|\b(?:it'?s|it is|this is) my (?:own )?"
            r"(?:company|business|firm|startup|agency|shop)\b"
            r"|\bmy own (?:company|business|firm|startup|agency|shop|practice)\b"
            r"|\bone of the (?:\w+ )?(?:co-?)?founders\b|\bi'?m (?:the )?owner\b"
            r"|\b(?:own|run) (?:it|the place|the show)\b"
        ),
        _owner,
    ),
    # heads of a department
    (
        re.compile(
            rf"{_SUBJECT}(?:head|heading|head up|heading up|lead|leading|run|running|manage"
            rf"|managing|oversee|overseeing|am in charge of|'m in charge of|in charge of)"
            rf" (?:the |our |a |an |all (?:of )?(?:the |our )?)?(?P<what>[a-z][\w&/ -]*?)"
            rf" {_DEPARTMENT}\b"
            r"|\bhead(?:ing)? up (?:the |our )?(?P<what2>[a-z][\w&/' -]*?)"
            + _OBJECT_END.replace("?P<", "?:")
        ),
        _head_from,
    ),
    # people responsible for a function or a team
    (
        re.compile(
            rf"{_SUBJECT}(?:look after|looking after|manage|managing|run|running|lead|leading"
            rf"|oversee|overseeing|supervise|supervising|take care of|am in charge of"
            rf"|'m in charge of"
            rf"|in charge of|am responsible for|'m responsible for|responsible for|coordinate"
            rf"|coordinating) {_OBJECT}{_OBJECT_END}"
            r"|^in charge of (?P<what2>[\w&/ -]+?)" + _OBJECT_END.replace("?P<", "?:")
        ),
        _lead_from,
    ),
    # asked to look into it by someone else: not the decision maker
    (
        re.compile(
            r"\b(?:my|our)(?: line| direct)? (?:boss|manager|supervisor|ceo|cto|cfo|coo|cmo|founder"
            r"|founders|owner|director|head of \w+|vp|team ?lead|lead|management|exec|execs"
            r"|higher[- ]ups|superiors?|client)\b[^.!?]{0,40}?\b(?:asked|told|wants?|wanted|sent"
            r"|tasked|needs?|needed|got|has me|had me|would like)\b"
            r"|\b(?:i was|i've been|i have been|i got|i'm being|was) (?:asked|told|tasked|sent"
            r"|assigned|volunteered)\b|\bhigher[- ]ups\b|\bon behalf of (?:my|our) (?:boss|manager)"
        ),
        _delegated,
    ),
    # students
    (
        re.compile(
            r"\b(?:thesis|dissertation|coursework|homework|capstone|undergrad|undergraduate"
            r"|postgrad|freshman|sophomore|uni|a levels?|my studies|studying|semester)\b"
            r"|\b(?:school|uni|university|college|class|course|student|academic|research|final)"
            r"(?: year)? (?:project|assignment|paper|essay|report)\b"
            r"|\b(?:final|first|second|third|fourth|last) year (?:of|at|in|student|undergrad)\b"
            r"|\b(?:in|doing|taking|pursuing|studying for|working on|writing) (?:a |an |my |the )?"
            r"(?:masters?|master's|mba|phd|ph\.d|doctorate|degree|bachelor'?s?|msc|bsc|ba|ma)\b"
            r"|\b(?:at|in) (?:uni|university|college|school|grad school|business school)\b"
            r"(?! (?:as|of)\b)"
            r"|\b(?:for|on) (?:an?|my) (?:assignment|project for (?:class|school|uni))\b"
        ),
        _student,
    ),
    # part of a team, working in a function
    (
        re.compile(
            r"\b(?:work|working|i'm|i am|im|am) (?:in|on|with|for) (?:the |our )?"
            r"(?P<what>[a-z][\w&/ -]*?) (?:team|department|dept|side)\b"
            r"|\bpart of (?:the |our |a )?(?P<what2>[a-z][\w&/ -]*?) (?:team|department|dept)\b"
            r"|\bon (?:the |our )(?P<what3>[a-z][\w&/ -]*?) team\b"
            r"|^(?:i )?(?:handle|do|work on|deal with|write|build|design|maintain)"
            r" (?:the |our |all )?(?P<what5>[a-z][\w&/ -]*?)"
            + _OBJECT_END.replace("?P<", "?:")
            + r"|^(?:i )?work in (?P<what4>[a-z][\w&/ -]*?)"
            + _OBJECT_END.replace("?P<", "?:")
            + r"|\b(?:regular|normal|ordinary|just an?) (?:employee|staff member|worker)\b"
        ),
        _member_from,
    ),
)


def role_cue(lowered: str) -> RoleCue | None:
    """The first cue found in `lowered` (lower-case, apostrophes normalised), else None."""
    for pattern, build in _CUES:
        match = pattern.search(lowered)
        if match:
            return build(match)
    return None
