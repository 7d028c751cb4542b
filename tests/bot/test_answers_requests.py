"""Requests typed while a question is open are never stored as the answer (bot/answers/requests.py).

Written for these tests, apart from the simulator's phrasing pools and the training data.
"""

from __future__ import annotations

import pytest

from bot import answers
from bot.answers import Status
from bot.answers.requests import asks_for_person, is_request

# Asking for a person now, in many wordings: the handoff, never an answer.
PERSON_REQUESTS = [
    "get me a sales rep",
    "can i speak to an actual human",
    "put me through to someone",
    "I need to talk to a person please",
    "human pls",
    "Representative.",
    "connect me to an agent",
    "transfer me to sales",
    "is there anyone there I can chat with",
    "could I talk to one of your account managers",
    "i wanna speak with a salesperson",
    "just give me a real person",
]


@pytest.mark.parametrize("text", PERSON_REQUESTS)
def test_requests_for_a_person(text: str) -> None:
    assert asks_for_person(text)
    assert is_request(text)
    for parse in (answers.parse_role, answers.parse_company, answers.parse_name):
        assert parse(text).status is Status.INVALID, parse.__name__


@pytest.mark.parametrize(
    "text",
    [
        # Asking to be contacted later is the demo request the form is already handling.
        "could someone from sales contact me?",
        "have a rep call me back tomorrow",
        "I want to talk to sales",
        "can someone email me the details",
        # Answers that mention people.
        "I manage a team of sales reps",
        "account manager",
        "senior consultant",
        "I'm the person who runs IT here",
    ],
)
def test_not_a_request_for_a_person(text: str) -> None:
    assert not asks_for_person(text)


@pytest.mark.parametrize(
    ("text", "slot"),
    [
        ("my invoice from last month is wrong", "company"),
        ("my order never arrived", "company"),
        ("my password doesnt work", "role"),
        ("the app on my phone keeps crashing, my phone is broken", "name"),
        ("tell me a joke", "company"),
        ("give me the weather for tomorrow", "role"),
        ("please reset my account", "company"),
        ("can you recommend a laptop", "company"),
        ("I want to apply for a job at your company", "role"),
        ("we need to return an order", "company"),
        ("i have a question about my bill", "name"),
        ("I'm looking for a job", "role"),
        ("i was wondering if you sell gift cards", "company"),
    ],
)
def test_requests_and_complaints_are_no_free_text_answer(text: str, slot: str) -> None:
    assert is_request(text)
    parse = {
        "company": answers.parse_company,
        "role": answers.parse_role,
        "name": answers.parse_name,
    }[slot]
    assert parse(text).status is Status.INVALID


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        # Sentences that answer stay answers.
        (answers.parse_company, "I work at Northwind", "Northwind"),
        (answers.parse_company, "Help Scout", "Help Scout"),  # a verb first, but a name
        (answers.parse_company, "Find My Past", "Find My Past"),
        (answers.parse_company, "we're called Brightforge", "Brightforge"),
        (answers.parse_company, "I study at Leeds Beckett University", "Leeds Beckett University"),
        (answers.parse_name, "call me Jo", "Jo"),
        (answers.parse_name, "my name is Ana Souza", "Ana Souza"),
        (answers.parse_role, "I'm looking after the IT team", None),
        (answers.parse_role, "sales manager", "sales manager"),
        (answers.parse_role, "founder here", None),
    ],
)
def test_answers_in_sentences_are_still_answers(parse, text: str, expected: str | None) -> None:  # type: ignore[no-untyped-def]
    parsed = parse(text)
    assert parsed.status is Status.OK
    if expected is not None:
        assert parsed.value == expected


@pytest.mark.parametrize(
    "text",
    ["who won the match last night?", "did you watch the match", "what's on at the cinema"],
)
def test_everyday_words_are_no_months(text: str) -> None:
    from datetime import date

    assert answers.parse_timeline(text, date(2026, 12, 2)).status is Status.INVALID
