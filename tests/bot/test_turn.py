"""One turn, understood once: `decide_turn` over plain facts, table-driven."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Dict

import pytest

from bot.conversation.dialogue import Turn
from bot.conversation.questions import AnswerContext
from bot.conversation.turn import CALLBACK, Decision, Kind, TurnFacts, decide_turn

CTX = AnswerContext(today=date(2026, 3, 2), currency_rates={"USD": 1.0, "GBP": 1.27})
ANSWERED = {
    "consent": True,
    "nurture_consent": False,
    "name": "Jo",
    "email": "jo@x.io",
    "role": "CTO",
    "company": "X",
    "company_size": 450,
}
OFFERED = (
    datetime(2026, 3, 3, 9, tzinfo=timezone.utc),
    datetime(2026, 3, 3, 14, tzinfo=timezone.utc),
)


def facts(
    text: str,
    intent: str = "inform",
    requested: str | None = "budget",
    confidence: float = 0.95,
    entities: Dict[str, str] | None = None,
    slots: Dict[str, Any] | None = None,
    **extra: Any,
) -> TurnFacts:
    return TurnFacts(
        turn=Turn(text, intent, confidence, entities or {}),
        requested=requested,
        slots={**ANSWERED, **(slots or {}), "requested_slot": requested},
        context=CTX,
        offered=OFFERED,
        now=datetime(2026, 3, 2, 12, tzinfo=timezone.utc),
        **extra,
    )


@pytest.mark.parametrize(
    "given, kind, slot, value",
    [
        # answers, parsed once
        (facts("about 25 grand"), Kind.ANSWER, "budget", 25000),
        (facts("yes that's fine", "affirm", "consent"), Kind.ANSWER, "consent", True),
        (facts("nope", "deny", "nurture_consent"), Kind.ANSWER, "nurture_consent", False),
        (facts("roughly 30 of us", requested="company_size"), Kind.ANSWER, "company_size", 30),
        # corrections, and "corrections" that are really answers
        (
            facts("wait, it's 45 people, not 450", "correct_answer"),
            Kind.CORRECTION,
            "company_size",
            45,
        ),
        (
            facts("hopefully in about 2 months", "correct_answer", "timeline"),
            Kind.ANSWER,
            "timeline",
            2,
        ),
        # digressions and "what do you mean?"
        (facts("what does it cost?", "ask_pricing"), Kind.DIGRESSION, "budget", None),
        (facts("what do you mean?", "clarify"), Kind.CLARIFY, "budget", None),
        # ...but a vague word after an unusable answer is another try: re-asked with an example
        (
            facts(
                "hmm, many",
                "clarify",
                "company_size",
                slots={"reask_error": "company_size:no_number"},
            ),
            Kind.REASK,
            "company_size",
            None,
        ),
        (
            facts(
                "what do you mean?",
                "clarify",
                "company_size",
                slots={"reask_error": "company_size:no_number"},
            ),
            Kind.CLARIFY,
            "company_size",
            None,
        ),
        (facts("/message_too_long", "message_too_long", "name"), Kind.DIGRESSION, "name", None),
        # a message that parses as the answer is one, unless it is asked as a question
        (facts("we don't have any budget for this", "ask_why_needed"), Kind.ANSWER, "budget", 0),
        (
            facts("what's the price for a team of 10?", "ask_pricing", "company_size"),
            Kind.DIGRESSION,
            "company_size",
            None,
        ),
        # a soft digression that parses as an answer is an answer
        (facts("later this year", "stop_form", "timeline"), Kind.ANSWER, "timeline", None),
        # re-asks with their reason
        (facts("lots", requested="company_size"), Kind.REASK, "company_size", None),
        (facts("/no_such_button", "deny"), Kind.REASK, "budget", None),
        (facts("hmm maybe", requested="consent"), Kind.REASK, "consent", None),
        # the meeting step
        (
            facts("/request_callback", "request_callback", "meeting_choice"),
            Kind.MEETING_CHOICE,
            "meeting_choice",
            CALLBACK,
        ),
        (
            facts("the second one", requested="meeting_choice"),
            Kind.MEETING_CHOICE,
            "meeting_choice",
            OFFERED[1],
        ),
        (
            facts("none of these work", requested="meeting_choice"),
            Kind.REASK,
            "meeting_choice",
            None,
        ),
        # asked three times in a row: the way out
        (
            facts("lots", requested="company_size", asked_in_a_row=3),
            Kind.WAY_OUT,
            "company_size",
            "skipped",
        ),
        (facts("hmm", requested="consent", asked_in_a_row=3), Kind.WAY_OUT, "consent", False),
        (
            facts("eh?", requested="meeting_choice", asked_in_a_row=3),
            Kind.WAY_OUT,
            "meeting_choice",
            CALLBACK,
        ),
        (
            facts("weather?", "out_of_scope", resuming=True, asked_in_a_row=3),
            Kind.WAY_OUT,
            "budget",
            "skipped",
        ),
        (
            facts("weather?", "out_of_scope", resuming=True, asked_in_a_row=2),
            Kind.NOTHING,
            "budget",
            None,
        ),
    ],
)
def test_one_decision_per_turn(given: TurnFacts, kind: Kind, slot: str, value: Any) -> None:
    decision = decide_turn(given)
    assert (decision.kind, decision.slot) == (kind, slot), decision
    if value is not None:
        assert decision.value == value


def test_reasks_say_why() -> None:
    assert decide_turn(facts("jo at example", requested="email")).error == "no_at"
    typo = decide_turn(facts("jo@gmial.com", requested="email"))
    assert typo.kind is Kind.REASK and typo.suggestion == "jo@gmail.com"
    # "yes" to "did you mean …?" takes the suggestion
    accepted = decide_turn(
        facts("yes", "affirm", "email", slots={"email": None, "email_suggestion": "jo@gmail.com"})
    )
    assert (accepted.kind, accepted.value) == (Kind.ANSWER, "jo@gmail.com")
    # "show me later times" is a request: never a reason to give up on the meeting
    assert (
        decide_turn(facts("/other_times", "other_times", "meeting_choice", asked_in_a_row=5)).error
        == "other_times"
    )


def test_answers_given_up_front_and_unclear_corrections() -> None:
    up_front = decide_turn(
        facts(
            "I'm the CTO, mail cto@globex.com",
            "request_demo",
            None,
            entities={"email": "cto@globex.com", "role": "CTO"},
            slots={"email": None, "role": None},
        )
    )
    assert up_front.kind is Kind.UP_FRONT and up_front.given == {
        "email": "cto@globex.com",
        "role": "CTO",
    }
    assert up_front.value_for("email") == (True, "cto@globex.com")
    # aimed at an earlier answer, but the new value is unusable: action_apply_correction explains
    unclear = decide_turn(facts("actually my email is jo at x dot io", "correct_answer", "budget"))
    assert unclear.kind is Kind.UNCLEAR_CORRECTION
    assert Decision(Kind.DIGRESSION, "budget").value_for("budget") == (False, None)
    # corrected, and the question asked three times already: applied, and the way out
    both = decide_turn(facts("sorry, I meant 45 people", "correct_answer", asked_in_a_row=3))
    assert (both.kind, both.slot, both.value) == (Kind.CORRECTION, "company_size", 45)
    assert both.value_for("budget") == (True, "skipped")
    assert Decision(Kind.REASK, "budget").value_for("budget") == (True, None)


def test_corrections_outside_the_form_are_decided_too() -> None:
    """action_apply_correction applies this decision instead of parsing the message again."""
    applied = decide_turn(facts("wait, it's 45 people, not 450", "correct_answer", None))
    assert (applied.kind, applied.slot, applied.value) == (Kind.CORRECTION, "company_size", 45)
    unusable = decide_turn(facts("actually my email is jo at x dot io", "correct_answer", None))
    assert unusable.kind is Kind.UNCLEAR_CORRECTION and unusable.slot == "email"
    assert unusable.interpretation is not None and not unusable.interpretation.accepted
    unknown = decide_turn(facts("that is not right", "correct_answer", None))
    assert unknown.kind is Kind.UNCLEAR_CORRECTION and unknown.interpretation is None
