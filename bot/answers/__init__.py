"""Understanding the visitor's answers to the qualification questions.

Pure functions over the raw message text: no Rasa, no I/O, and the text is never logged (it is
personal data). Every parser returns a `Parsed` (or, for yes/no, an optional bool) and never
raises, whatever it is given: empty text, 10,000 characters, HTML, emoji.
"""

from bot.answers._types import Parsed, Status
from bot.answers.budget import DEFAULT_RATES, parse_budget
from bot.answers.correction import Correction, detect_correction
from bot.answers.emails import EmailInfo, check_email
from bot.answers.people import SELF_EMPLOYED, parse_company, parse_name
from bot.answers.role import SENIORITIES, classify_seniority, parse_role
from bot.answers.size import MAX_COMPANY_SIZE, parse_company_size
from bot.answers.timeline import parse_timeline
from bot.answers.yesno import parse_yes_no

__all__ = [
    "DEFAULT_RATES",
    "MAX_COMPANY_SIZE",
    "SELF_EMPLOYED",
    "SENIORITIES",
    "Correction",
    "EmailInfo",
    "Parsed",
    "Status",
    "check_email",
    "classify_seniority",
    "detect_correction",
    "parse_budget",
    "parse_company",
    "parse_company_size",
    "parse_name",
    "parse_role",
    "parse_timeline",
    "parse_yes_no",
]
