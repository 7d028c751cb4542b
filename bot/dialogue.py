"""Dialogue decisions that don't need Rasa: which slot to ask next, whether a message mid-form
is an answer or a digression, and which response to use for a re-ask or a question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Collection, List, Mapping, Optional, Sequence, Tuple

from bot.qualification import FORM_SLOTS, QUESTIONS

# Intents that, recognised with enough confidence, mean "not an answer": the form steps aside,
# a rule handles the message, and the form asks the same question again afterwards.
DIGRESSION_INTENTS = frozenset(
    {
        "ask_what_you_do",
        "ask_pricing",
        "ask_why_needed",
        "ask_security",
        "bot_challenge",
        "stop_form",
        "goodbye",
        "human_handoff",
        "delete_data",
        "show_my_data",
        "out_of_scope",
    }
)

# Questions answered by a fixed response, wherever the conversation is.
ANSWERS: Mapping[str, str] = {
    "ask_what_you_do": "utter_what_we_do",
    "ask_pricing": "utter_pricing",
    "ask_security": "utter_security",
    "bot_challenge": "utter_iamabot",
}


@dataclass(frozen=True)
class Turn:
    """What the visitor just said, as the NLU understood it."""

    text: str
    intent: Optional[str]
    confidence: float
    entities: Mapping[str, str]


# Digressions whose wording overlaps real answers ("later this year" reads like "later");
# for questions whose answers have a shape a parser can confirm, a parsed answer wins.
SOFT_DIGRESSIONS = frozenset({"stop_form", "goodbye", "out_of_scope"})
SHAPED_ANSWERS = frozenset({"email", "company_size", "budget", "timeline"})


def is_digression(
    turn: Turn,
    threshold: float,
    requested_slot: Optional[str] = None,
    parses_as_answer: Callable[[], bool] = lambda: False,
) -> bool:
    """True when the message is confidently something other than an answer."""
    if turn.intent not in DIGRESSION_INTENTS or turn.confidence < threshold:
        return False
    if turn.intent in SOFT_DIGRESSIONS and requested_slot in SHAPED_ANSWERS:
        return not parses_as_answer()
    return True


def required_slots(slots: Mapping[str, Any]) -> List[str]:
    """The form's questions; a visitor who declined consent is asked nothing more."""
    if slots.get("consent") is False:
        return ["consent"]
    return list(FORM_SLOTS)


def next_slot(slots: Mapping[str, Any]) -> Optional[str]:
    return next((slot for slot in required_slots(slots) if slots.get(slot) is None), None)


def answer_response(intent: Optional[str], requested_slot: Optional[str]) -> str:
    """The response for a question: "why do you need this?" depends on what was asked."""
    if intent == "ask_why_needed":
        return f"utter_why_{requested_slot}" if requested_slot else "utter_why_general"
    return ANSWERS.get(intent or "", "utter_what_i_can_do")


def reask_responses(
    slot: str,
    error: Optional[str],
    attempts: int,
    explain_after: int,
    available: Collection[str],
) -> List[str]:
    """Responses that ask for `slot`: the question, or a re-ask that says what was wrong.

    After `explain_after` failed attempts in a row, the re-ask is preceded by why we ask.
    """
    if error is None:
        return [f"utter_ask_{slot}"]
    specific = f"utter_invalid_{slot}_{error}"
    responses = [specific if specific in available else f"utter_invalid_{slot}"]
    if attempts >= explain_after and f"utter_why_{slot}" in available:
        responses.insert(0, f"utter_why_{slot}")
    return responses


def encode_error(slot: str, error: str) -> str:
    return f"{slot}:{error}"


def decode_error(value: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    if not value or ":" not in value:
        return None, None
    slot, _, error = value.partition(":")
    return slot, error


def filled_questions(slots: Mapping[str, Any]) -> Sequence[str]:
    return [slot for slot in QUESTIONS if slots.get(slot) is not None]
