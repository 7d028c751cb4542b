"""Table-driven tests for `detect_correction`: which answer is corrected, and the new value."""

from __future__ import annotations

import pytest

from bot.answers import (
    Correction,
    detect_correction,
    parse_budget,
    parse_company,
    parse_company_size,
    parse_name,
)


@pytest.mark.parametrize(
    ("text", "last_filled", "expected"),
    [
        ("wait, it's 45 people, not 450", None, Correction("company_size", "45 people")),
        ("actually my email is jane@acme.io", None, Correction("email", "jane@acme.io")),
        ("sorry, I meant 50k", None, Correction("budget", "50k")),
        ("sorry, I meant no budget at all", None, Correction("budget", "no budget at all")),
        ("correction: the company is Globex", None, Correction("company", "Globex")),
        ("no wait, my name is Jon not John", None, Correction("name", "Jon")),
        ("make that 6 months", None, Correction("timeline", "6 months")),
        ("I typed the wrong email", None, Correction("email", "")),
        ("we're actually 500 people", None, Correction("company_size", "we're 500 people")),
        ("not 5k but 50k", None, Correction("budget", "50k")),
        ("actually I'm the CTO, not the CEO", None, Correction("role", "I'm the CTO")),
        (
            "I gave you the wrong number, it's 120 employees",
            None,
            Correction("company_size", "120 employees"),
        ),
        (
            "my bad, the budget is more like $80k per year",
            None,
            Correction("budget", "more like $80k per year"),
        ),
        ("scratch that - Q3 next year", None, Correction("timeline", "Q3 next year")),
        ("Sorry, typo: it's jane.doe@acme.com", None, Correction("email", "jane.doe@acme.com")),
        ("actually it's spelled Jon", None, Correction("name", "Jon")),
        ("wait, I work at Globex, not Initech", None, Correction("company", "I work at Globex")),
        ("update my title to VP Sales", None, Correction("role", "VP Sales")),
        ("ACTUALLY, ASAP", None, Correction("timeline", "ASAP")),
        ("oops, €40k not 4k", None, Correction("budget", "€40k")),
        ("actually it's more like 2k a month", None, Correction("budget", "more like 2k a month")),
        ("sorry the company name is Initech", None, Correction("company", "Initech")),
        ("whoops, should be 6-9 months", None, Correction("timeline", "6-9 months")),
        ("change my email to bob@globex.com please", None, Correction("email", "bob@globex.com")),
        # no keyword and no telling shape: the answer given last is the one being corrected
        ("sorry, 45", "company_size", Correction("company_size", "45")),
        ("oops, I meant Initech", "company", Correction("company", "Initech")),
        ("actually make it Jonathan", "name", Correction("name", "Jonathan")),
        # keywords win over the last answer
        ("actually we're 12 people, not 20", "role", Correction("company_size", "we're 12 people")),
    ],
)
def test_detect_correction(text: str, last_filled: str | None, expected: Correction) -> None:
    assert detect_correction(text, last_filled) == expected


def test_requested_slot_is_only_a_last_resort() -> None:
    assert detect_correction("sorry, 45", None, "budget") == Correction("budget", "45")
    assert detect_correction("sorry, 45", "company_size", "budget") == Correction(
        "company_size", "45"
    )
    assert detect_correction("sorry I meant 50k", None, "timeline") == Correction("budget", "50k")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "45 people",  # an answer, not a correction
        "jane@acme.com",
        "hello there",
        "sorry, 45",  # nothing says which answer: no last slot, no requested slot
        "<script>alert('actually')</script>",
        "actually " * 2000,
    ],
)
def test_no_correction(text: str) -> None:
    assert detect_correction(text) is None


def test_correction_text_feeds_the_slot_parser() -> None:
    """The point of `text`: the slot's own parser understands it."""
    size = detect_correction("wait, it's 45 people, not 450")
    assert size is not None and parse_company_size(size.text).value == 45
    budget = detect_correction("sorry I meant 50k not 5k")
    assert budget is not None and parse_budget(budget.text).value == 50000
    name = detect_correction("no wait, my name is Jon not John")
    assert name is not None and parse_name(name.text).value == "Jon"
    company = detect_correction("wait, I work at Globex, not Initech")
    assert company is not None and parse_company(company.text).value == "Globex"
