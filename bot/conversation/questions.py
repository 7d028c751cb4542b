"""The qualification questions: what each answer means, how it is shown back, how it is stored.

Actions call `interpret()` with the visitor's raw text and get back what goes in the Rasa slot,
what goes in the lead's columns, or why the answer could not be used (for a specific re-ask).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Dict, Iterator, Mapping, Tuple

from babel.numbers import format_decimal

from bot import answers
from bot.answers import Parsed, Status
from bot.config.responses import phrase

# The order `lead_form` asks in, after the two consent questions.
QUESTIONS = ("name", "email", "role", "company", "company_size", "budget", "timeline")
CONSENT_SLOTS = ("consent", "nurture_consent")
FORM_SLOTS = CONSENT_SLOTS + QUESTIONS

# Slot values for answers that are valid but carry no number or text.
DECLINED = "declined"
UNKNOWN = "unknown"
# A question the bot gave up asking after three tries in a row (the visitor was offered a way
# out and the form moved on); stored as an answer with no value.
SKIPPED = "skipped"

# Without an email address nobody can follow up, so "prefer not to say" is not accepted there.
REQUIRED_ANSWERS = frozenset({"email"})


@dataclass(frozen=True)
class AnswerContext:
    """What parsing needs from outside: today's date, currency rates, email check mode."""

    today: date
    currency_rates: Mapping[str, float]
    check_deliverability: bool = False


@dataclass(frozen=True)
class Interpretation:
    slot: str
    status: Status
    slot_value: Any = None
    lead_values: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    suggestion: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not Status.INVALID


def _values(slot: str, parsed: Parsed[Any]) -> Dict[str, Any]:
    """Lead columns for an accepted answer (declined/unknown store nulls)."""
    if parsed.status is not Status.OK:
        return {}
    value = parsed.value
    if slot == "email":
        return {"email": value.address, "email_free_mail": value.free_mail}
    if slot == "role":
        return {"role": value, "seniority": answers.classify_seniority(value)}
    column = {"budget": "budget_usd", "timeline": "timeline_months"}.get(slot, slot)
    return {column: value}


def _parsers(ctx: AnswerContext) -> Mapping[str, Callable[[str], Parsed[Any]]]:
    return {
        "name": answers.parse_name,
        "email": lambda text: answers.check_email(text, ctx.check_deliverability),
        "role": answers.parse_role,
        "company": answers.parse_company,
        "company_size": answers.parse_company_size,
        "budget": lambda text: answers.parse_budget(text, ctx.currency_rates),
        "timeline": lambda text: answers.parse_timeline(text, ctx.today),
    }


def interpret(slot: str, text: str | None, ctx: AnswerContext) -> Interpretation:
    """Understand the visitor's answer `text` to question `slot`."""
    if slot not in QUESTIONS:
        raise ValueError(f"{slot!r} is not a qualification question")
    parsed = _parsers(ctx)[slot](text or "")
    if parsed.status is Status.DECLINED and slot in REQUIRED_ANSWERS:
        return Interpretation(slot, Status.INVALID, error="required")
    if parsed.status is Status.INVALID:
        return Interpretation(
            slot, Status.INVALID, error=parsed.error or "invalid", suggestion=parsed.suggestion
        )
    if parsed.status is Status.OK:
        value = parsed.value.address if slot == "email" else parsed.value
    else:
        value = DECLINED if parsed.status is Status.DECLINED else UNKNOWN
    return Interpretation(slot, parsed.status, value, _values(slot, parsed))


def status_of(slot_value: Any) -> Status:
    """The answer status a slot value stands for (see `interpret`)."""
    if slot_value == DECLINED:
        return Status.DECLINED
    if slot_value == UNKNOWN:
        return Status.UNKNOWN
    if slot_value == SKIPPED:
        return Status.DECLINED
    return Status.OK


# A number answer read back: utter_phrase_<slot> with the number under the phrase's name for it
# (grouped as the locale writes it: "2,500"), or a phrase of its own for some values.
_NUMBER_WORDS: Mapping[str, Tuple[str, bool, Mapping[int, str]]] = {
    "company_size": ("count", True, {1: "company_size_one"}),
    "budget": ("amount", True, {0: "budget_none"}),
    "timeline": ("months", False, {0: "timeline_now", 1: "timeline_one"}),
}


def display_value(slot: str, slot_value: Any, locale: str = "en") -> str:
    """How an answer is shown back to the visitor ("what do you know about me?", corrections)
    and to reps as what the assistant understood; the words are domain.yml's
    `utter_phrase_*` responses, so both read the same wording, and numbers are written the
    way `locale` (Settings.locale, LOCALE) writes them ("2,500" in English, "2.500" in German)."""
    if slot_value is None or slot_value == SKIPPED:
        return phrase("not_given")
    if slot_value == DECLINED:
        return phrase("declined")
    if slot_value == UNKNOWN:
        return phrase("unknown_timeline" if slot == "timeline" else "unknown")
    if slot in _NUMBER_WORDS:
        name, grouped, own = _NUMBER_WORDS[slot]
        number = int(slot_value)
        if number in own:
            return phrase(own[number])
        return phrase(
            slot, **{name: format_decimal(number, locale=locale) if grouped else str(number)}
        )
    return str(slot_value)


class _QuestionLabels(Mapping[str, str]):
    """What each question is called where an answer is read back (domain.yml's
    `utter_phrase_label_<slot>`), read when first needed rather than at import."""

    def __getitem__(self, slot: str) -> str:
        if slot not in QUESTIONS:
            raise KeyError(slot)
        return phrase(f"label_{slot}")

    def __iter__(self) -> Iterator[str]:
        return iter(QUESTIONS)

    def __len__(self) -> int:
        return len(QUESTIONS)


QUESTION_LABELS: Mapping[str, str] = _QuestionLabels()


def stored_values(slot: str, slot_value: Any, ctx: AnswerContext) -> Interpretation:
    """Rebuild what to store for an answer already in a slot (given before consent, e.g.
    an email in the first message), so it can be saved once the visitor consents."""
    status = status_of(slot_value)
    if status is not Status.OK:
        return Interpretation(slot, status, slot_value)
    if slot in ("email", "role"):
        return interpret(slot, str(slot_value), ctx)
    column = {"budget": "budget_usd", "timeline": "timeline_months"}.get(slot, slot)
    return Interpretation(slot, status, slot_value, {column: slot_value})
