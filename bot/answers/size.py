"""Company size: how many people work at the visitor's company."""

from __future__ import annotations

import re
from typing import List

from bot.answers._numbers import Quantity, candidate_quantities, followed_by, numeric_text
from bot.answers._text import is_unknown, screen
from bot.answers._types import UNKNOWN, Parsed, invalid, ok

# The largest employers have about 2-3 million staff; anything above this is a typo or a joke.
MAX_COMPANY_SIZE = 5_000_000

# Words after a number that say it counts people on the team.
_PEOPLE = re.compile(
    r"((full[- ]?time|fte|permanent|salaried|paid|in[- ]house|total|of|other|more|"
    r"[a-z]+) )?(people|persons?|ppl|peeps|employees?|employes|emps|staff|staffers|folks|heads|"
    r"headcount|ftes?|members|team ?members|workers|engineers|developers|devs|colleagues|guys|"
    r"humans|founders|co-?founders|partners|souls|us|of us|on (the )?payroll|in the team|"
    r"on the team|in total|strong|ish\b|-ish\b)"
)
# Words after a number that say it counts something else: contractors are not employees, and
# "3 offices" or "10 years" is not a headcount. "12 employees and 3 contractors" is 12.
_NOT_PEOPLE = re.compile(
    r"(contractors?|freelancers?|interns?|volunteers?|part[- ]?timers?|consultants|temps|"
    r"customers?|clients?|users?|offices?|locations?|countries|country|sites?|stores?|shops?|"
    r"branches|subsidiaries|products?|years?|yrs?|months?|weeks?|days?|hours?|%|percent|"
    r"million (in )?revenue|revenue|in revenue|arr\b|mrr\b|cities|states|continents|teams|"
    r"departments|time ?zones)"
)

_SOLO = re.compile(
    r"^(it'?s |i'?m |i am )?(just|only) (me|myself|i|one|1)\b|^(me|myself|i|solo|one|1)$"
    r"|\b(one|1)[- ]?(man|woman|person)[- ]?(band|show|shop|company|business|operation|team)?\b"
    r"|\bsolo(preneur)?\b|\bsole (trader|proprietor(ship)?)\b"
    r"|\b(i work|working) (alone|by myself|on my own)\b"
    r"|\bself[- ]?employed\b|\bfreelancer?\b|\bjust (the )?1 of us\b|\bonly 1 of us\b"
)
_ME_AND_ONE = re.compile(
    r"\b(me|myself|i) (and|plus|\+|with|&) (my |a |one |1 |the )?(co-?founder|cofounder|partner|"
    r"business partner|wife|husband|spouse|brother|sister|friend|colleague|associate|assistant|"
    r"dad|father|mom|mum|mother|son|daughter|buddy|mate|other person|another person|employee|"
    r"intern|developer|dev|engineer)\b"
    r"|\b(my |a )?(co-?founder|cofounder|partner|business partner|wife|husband|brother|sister|"
    r"friend|colleague) (and|&) (me|myself|i)\b"
)
_ME_AND_N = re.compile(r"\b(me|myself|i) (and|plus|\+|with|&) (\d+)\b")
_NOBODY = re.compile(r"\b(none|nobody|no one|no employees|no staff|zero)\b")


# "we grew from 10 to 35": the size is what it is now, not the range.
_CHANGE = re.compile(
    r"\b(grew|grown|growing|went|gone|going|increased|expanded|scaled|jumped|doubled|shrunk|shrank"
    r"|dropped|reduced|downsized|cut)( up| down| back)? from (about |around |roughly )?\d+ "
    r"(people |employees |staff )?to\b"
)


def _headcount(text: str, quantities: List[Quantity]) -> float | None:
    """Pick the headcount: people-counts summed ("3 founders and 20 staff"), else the first."""
    usable = [q for q in quantities if q.is_range or not followed_by(text, q, _NOT_PEOPLE)]
    people = [q for q in usable if followed_by(text, q, _PEOPLE)]
    if len(people) > 1:
        return sum(q.value for q in people)
    if people:
        return people[0].value
    return usable[0].value if usable else None


def _special_counts(text: str) -> int | None:
    """Counts said about the visitor: "just me" 1, "me and my cofounder" 2, "me and 3 others" 4."""
    me_and_n = _ME_AND_N.search(text)
    if me_and_n:
        return int(me_and_n.group(3)) + 1
    if _ME_AND_ONE.search(text):
        return 2
    if _SOLO.search(text):
        return 1
    return None


def parse_company_size(text: str) -> Parsed[int]:
    """Number of employees; ranges give their midpoint, "10k+" and "over 1,000" their bound."""
    text, verdict = screen(text)
    if verdict is not None:
        return verdict
    lowered = _CHANGE.sub(" ", numeric_text(text))
    quantities = candidate_quantities(lowered)
    special = _special_counts(lowered)
    value = special if special is not None else _headcount(lowered, quantities)
    if value is None:
        if is_unknown(text):
            return UNKNOWN
        return invalid("zero") if _NOBODY.search(lowered) else invalid("no_number")
    if value <= 0 or any(q.negative for q in quantities if q.value == value):
        return invalid("zero")
    if value > MAX_COMPANY_SIZE:
        return invalid("too_large")
    return ok(max(1, int(round(value))))
