"""Pure dialogue decisions and privacy helpers."""

from __future__ import annotations

import pytest

from bot.conversation.dialogue import (
    QUESTION_INTENTS,
    Turn,
    answer_response,
    is_digression,
    is_unknown_button,
    next_slot,
    reask_responses,
    required_slots,
    said_instead,
    split_reask,
)
from bot.leads.privacy import source_from_metadata


def turn(intent: str, confidence: float = 0.9, text: str = "") -> Turn:
    return Turn(text=text, intent=intent, confidence=confidence, entities={})


@pytest.mark.parametrize(
    ("intent", "confidence", "slot", "parses", "expected"),
    [
        ("ask_pricing", 0.9, "budget", True, True),  # questions always win
        ("ask_pricing", 0.3, "budget", False, False),  # not confident: treat as an answer
        ("inform", 0.99, "name", True, False),
        ("stop_form", 0.8, "name", True, True),  # "stop" is not a name
        ("stop_form", 0.8, "timeline", True, False),  # "later this year" is a timeline
        ("stop_form", 0.8, "timeline", False, True),
        ("out_of_scope", 0.9, "company_size", True, False),
        ("delete_data", 0.7, "email", True, True),
        ("deny", 0.95, "budget", True, False),  # "no budget" is an answer
        ("out_of_scope", 0.9, "name", "markup", False),  # <script> as a name: a bad answer
        ("out_of_scope", 0.9, "name", "ok", True),  # "tell me a joke" parses as a name
        ("goodbye", 0.9, "company", "too_long", False),
        ("ask_pricing", 0.9, "name", "markup", False),
        ("human_handoff", 0.6, "name", "too_long", False),  # 1,500 n's are not a request
        ("human_handoff", 0.6, "name", "not_a_name", True),
    ],
)
def test_is_digression(intent, confidence, slot, parses, expected) -> None:  # type: ignore[no-untyped-def]
    verdict = parses if isinstance(parses, str) else ("ok" if parses else "no_number")
    # Questions to the bot are worded as questions; the other intents as plain statements.
    text = "what does it cost?" if intent in QUESTION_INTENTS else "about forty or so"
    said = turn(intent, confidence, text=text)
    assert is_digression(said, 0.5, slot, lambda: verdict) is expected


def test_an_answer_the_nlu_took_for_a_question_is_an_answer() -> None:
    no_budget = turn("ask_why_needed", 0.8, text="we don't have any budget for this")
    assert is_digression(no_budget, 0.5, "budget", lambda: "ok") is False
    asked = turn("ask_pricing", 0.8, text="what's the price for a team of 10")
    assert is_digression(asked, 0.5, "company_size", lambda: "ok") is True
    # Worded as the answer: an answer, whatever the NLU says.
    company = turn("out_of_scope", 0.9, text="the company is Sparrow Media")
    assert is_digression(company, 0.5, "company", lambda: "ok") is False
    student = turn("out_of_scope", 0.9, text="I study at the University of Leeds")
    assert is_digression(student, 0.5, "company", lambda: "ok") is False
    assert is_digression(
        turn("out_of_scope", 0.9, text="tell me a joke"), 0.5, "company", lambda: "ok"
    )
    # A name the NLU has never seen, typed as a name, is the answer to the name question.
    for name in ("Zelda Obmafghmfk", "Siobhán Ní Bhriain", "Oyelaran-Adebayo"):
        unfamiliar = turn("out_of_scope", 0.9, text=name)
        assert is_digression(unfamiliar, 0.5, "name", lambda: "ok") is False
    unfamiliar = turn("out_of_scope", 0.9, text="Qwixly & Brandt")
    assert is_digression(unfamiliar, 0.5, "company", lambda: "ok") is False
    # Not typed as a name, or not asked for one: the NLU decides.
    for text, slot in (("weather in paris", "name"), ("Zelda Obmafghmfk", "role")):
        assert is_digression(turn("out_of_scope", 0.9, text=text), 0.5, slot, lambda: "ok")
    assert is_digression(turn("stop_form", 0.9, text="Stop"), 0.5, "name", lambda: "ok")
    # Privacy and people requests always win, parsed or not.
    forget = turn("delete_data", 0.8, text="please delete jo@x.io from your lists")
    assert is_digression(forget, 0.5, "email", lambda: "ok") is True


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("/affirm", "affirm", (False, False)),
        ("/deny", "deny", (False, False)),
        ("/no_such_button", "deny", (False, True)),  # re-asked, never read as "no"
        ("/request_demo", "request_demo", (False, True)),
        ("/ask_pricing", "ask_pricing", (True, True)),  # the greeting's "Pricing" button
    ],
)
def test_buttons_mid_form(text: str, intent: str, expected: tuple) -> None:
    button = Turn(text, intent, 1.0, {})
    assert (is_digression(button, 0.5, "consent"), is_unknown_button(button)) == expected


def test_declined_consent_ends_the_questions() -> None:
    assert required_slots({"consent": False}) == ["consent"]
    assert next_slot({"consent": False}) is None
    assert next_slot({}) == "consent"
    assert next_slot({"consent": True, "nurture_consent": False}) == "name"
    assert next_slot({"consent": True, "nurture_consent": True, "name": "declined"}) == "email"


def test_reask_is_specific_then_explains() -> None:
    available = {"utter_invalid_email", "utter_invalid_email_typo", "utter_why_email"}
    assert reask_responses("email", None, 0, 2, available) == ["utter_ask_email"]
    assert reask_responses("email", "typo", 1, 2, available) == ["utter_invalid_email_typo"]
    assert reask_responses("email", "syntax", 1, 2, available) == ["utter_invalid_email"]
    assert reask_responses("email", "syntax", 2, 2, available) == [
        "utter_why_email",
        "utter_invalid_email",
    ]
    # An error that reads the same for every question, then the question itself.
    assert reask_responses("budget", "too_long", 1, 2, {"utter_invalid_too_long"}) == [
        "utter_invalid_too_long",
        "utter_ask_budget",
    ]


def test_the_form_asks_the_question_and_a_reask_may_replace_it() -> None:
    """What the validation says before the question, and what is said instead of it."""
    assert split_reask("email", ["utter_ask_email"]) == ([], None)
    assert split_reask("email", ["utter_why_email", "utter_invalid_email"]) == (
        ["utter_why_email"],
        "utter_invalid_email",
    )
    assert split_reask("budget", ["utter_invalid_too_long", "utter_ask_budget"]) == (
        ["utter_invalid_too_long"],
        None,
    )
    assert said_instead("utter_ask_email", "utter_invalid_email_typo") == "utter_invalid_email_typo"
    assert said_instead("utter_ask_email", None) == "utter_ask_email"
    assert said_instead("utter_ask_role", "utter_invalid_email") == "utter_ask_role"
    assert said_instead("utter_greet", "utter_invalid_email") == "utter_greet"


def test_why_depends_on_the_question() -> None:
    assert answer_response("ask_why_needed", "budget") == "utter_why_budget"
    assert answer_response("ask_why_needed", None) == "utter_why_general"
    assert answer_response("ask_pricing", "budget") == "utter_pricing"


def test_source_keeps_known_keys_and_utm_from_the_url() -> None:
    source = source_from_metadata(
        {
            "page_url": "https://ex.test/pricing?utm_source=google&utm_campaign=brand",
            "referrer": "https://google.com/",
            "utm_medium": "cpc",
            "password": "never stored",
            "timezone": "America/New_York",
            "locale": "x" * 1000,
        }
    )
    assert source["utm_source"] == "google" and source["utm_campaign"] == "brand"
    assert source["utm_medium"] == "cpc" and source["timezone"] == "America/New_York"
    assert "password" not in source and len(source["locale"]) == 500
    assert source_from_metadata(None) is None
    assert source_from_metadata({"page_url": 123.0})["page_url"] == "123.0"
    assert source_from_metadata("not a dict") is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "slot", "expected"),
    [
        # A question about something else holds a time or a number, but is no answer.
        ("what's the weather like in Lisbon today?", "timeline", True),
        ("who won the game last night", "timeline", True),
        ("how many calories are in 2 eggs?", "company_size", True),
        ("what's 20 euros in dollars?", "budget", True),
        # So does a complaint or a request about something else.
        ("my subscription from last month is wrong", "timeline", True),
        ("cancel my order from 2 weeks ago", "timeline", True),
        ("I need a refund of $40", "budget", True),
        # Statements the NLU took for out of scope that parse as the answer stay answers.
        ("probably by the summer", "timeline", False),
        ("forty of us", "company_size", False),
    ],
)
def test_an_off_topic_question_is_not_a_shaped_answer(text: str, slot: str, expected: bool) -> None:
    said = turn("out_of_scope", 0.9, text=text)
    assert is_digression(said, 0.5, slot, lambda: "ok") is expected
