"""Table-driven tests for company size and budget, the two answers that carry an amount."""

from __future__ import annotations

import pytest

from bot.answers import DEFAULT_RATES, Parsed, Status, parse_budget, parse_company_size

OK, DECLINED, UNKNOWN, INVALID = Status.OK, Status.DECLINED, Status.UNKNOWN, Status.INVALID

# -- company size -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30", 30),
        ("roughly 30 of us", 30),
        ("only myself", 1),
        ("just me", 1),
        ("solo", 1),
        ("it's a one-man band", 1),
        ("I'm self-employed", 1),
        ("me and my cofounder", 2),
        ("my co-founder and I", 2),
        ("just the two of us", 2),
        ("me and 3 others", 4),
        ("somewhere from 200 to 500", 350),
        ("between 50 and 100 employees", 75),
        ("1-10", 5),
        ("11–50", 30),
        ("40 or 50 people", 45),
        ("10k+", 10000),
        ("over 1,000", 1000),
        ("more than 50", 50),
        ("5000+", 5000),
        ("about 2.5k", 2500),
        ("1.2k employees", 1200),
        ("fifty", 50),
        ("two hundred", 200),
        ("a dozen", 12),
        ("half a dozen", 6),
        ("twenty-five people", 25),
        ("a hundred and fifty", 150),
        ("fourty", 40),
        ("we are a team of twenty", 20),
        ("45ish", 45),
        ("~120", 120),
        ("≈ 80", 80),
        ("we have 12 employees and 3 contractors", 12),
        ("3 founders and 20 employees", 23),
        ("wait, it's 45 people, not 450", 45),
        ("not 450, 45", 45),
        ("aproximately 80 ppl", 80),
        ("arround 40", 40),
        ("abt 15 FTEs", 15),
        ("We've been around for 10 years and have 50 staff", 50),
        ("500 people in 3 countries", 500),
        ("2 offices, 40 people", 40),
        ("1,500 worldwide", 1500),
        ("1 000 employees", 1000),
        ("not sure, maybe 50", 50),
        ("approx. 2 thousand", 2000),
        ("250 FTE", 250),
        ("5 million", 5000000),
    ],
)
def test_company_size_ok(text: str, expected: int) -> None:
    assert parse_company_size(text) == Parsed(OK, expected)


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [
        ("", INVALID, "empty"),
        ("   ", INVALID, "empty"),
        ("9" * 10_000, INVALID, "too_long"),
        ("<script>alert(1)</script>", INVALID, "markup"),
        ("0", INVALID, "zero"),
        ("zero", INVALID, "zero"),
        ("none", INVALID, "zero"),
        ("-5", INVALID, "zero"),
        ("10 billion", INVALID, "too_large"),
        ("6,000,000 people", INVALID, "too_large"),
        ("a lot", INVALID, "no_number"),
        ("hundreds", INVALID, "no_number"),
        ("small team", INVALID, "no_number"),
        ("🙂", INVALID, "no_number"),
        ("not sure", UNKNOWN, None),
        ("no idea tbh", UNKNOWN, None),
        ("I don't know", UNKNOWN, None),
        ("prefer not to say", DECLINED, None),
        ("that's confidential", DECLINED, None),
    ],
)
def test_company_size_other(text: str, status: Status, error: str | None) -> None:
    assert parse_company_size(text) == Parsed(status, error=error)


# -- budget -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50000", 50000),
        ("$50,000", 50000),
        ("$50k", 50000),
        ("50K USD", 50000),
        ("about 25 grand", 25000),
        ("25 thou", 25000),
        ("10k+", 10000),
        ("two hundred thousand", 200000),
        ("two hundred thousand dollars", 200000),
        ("1.2M", 1200000),
        ("$1.5 mil", 1500000),
        ("2 million", 2000000),
        ("half a million", 500000),
        ("a quarter of a million", 250000),
        ("1bn", 1000000000),
        ("£20k", 25400),
        ("20k quid", 25400),
        ("20 thousand pounds", 25400),
        ("€10,000", 10800),
        ("10.000 €", 10800),
        ("10 000 euros", 10800),
        ("€40–60k per year", 54000),
        ("CHF 50'000", 56500),
        ("C$10k", 7300),
        ("10k canadian dollars", 7300),
        ("AUD 100k", 66000),
        ("₹5 lakh", 6000),
        ("¥1,000,000", 6700),
        ("$1,500 per month", 18000),
        ("2k/mo", 24000),
        ("500 a month", 6000),
        ("monthly 3000", 36000),
        ("around 3 thousand euros monthly", 38880),
        ("3k montly", 36000),
        ("5k per quarter", 20000),
        ("10k quarterly", 40000),
        ("200 bucks a week", 10400),
        ("60k per year", 60000),
        ("60k annually", 60000),
        ("between 50 and 80k", 65000),
        ("50-100k", 75000),
        ("$5k-$10k", 7500),
        ("somewhere between 20k and 30k", 25000),
        ("under 5k", 5000),
        ("less than $1000", 1000),
        ("up to 15k", 15000),
        ("at least 100k", 100000),
        ("six figures", 100000),
        ("low six figures", 100000),
        ("mid five figures", 50000),
        ("high six figures", 800000),
        ("sorry I meant 50k not 5k", 50000),
        ("not 5k but 50k", 50000),
        ("our budget for 2027 is 50k", 50000),
        ("maybe 30k, not sure yet", 30000),
        ("a couple grand", 2000),
        ("no budget", 0),
        ("zero", 0),
        ("nothing yet", 0),
        ("$0", 0),
        ("we don't have a budget", 0),
    ],
)
def test_budget_ok(text: str, expected: int) -> None:
    assert parse_budget(text) == Parsed(OK, expected)


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [
        ("", INVALID, "empty"),
        ("$" * 10_000, INVALID, "too_long"),
        ("<script>alert('50k')</script>", INVALID, "markup"),
        ("banana", INVALID, "no_amount"),
        ("a lot", INVALID, "no_amount"),
        ("-5000", INVALID, "no_amount"),
        ("about 10% of revenue", INVALID, "no_amount"),
        ("💰💰💰", INVALID, "no_amount"),
        ("not sure", UNKNOWN, None),
        ("haven't decided", UNKNOWN, None),
        ("tbd", UNKNOWN, None),
        ("TBD", UNKNOWN, None),
        ("depends on the price", UNKNOWN, None),
        ("no budget set yet", UNKNOWN, None),
        ("just researching for now", UNKNOWN, None),
        ("no idea", UNKNOWN, None),
        ("prefer not to say", DECLINED, None),
        ("confidential", DECLINED, None),
        ("rather not share", DECLINED, None),
        ("I'd rather not disclose that", DECLINED, None),
        ("perfer not to say", DECLINED, None),
    ],
)
def test_budget_other(text: str, status: Status, error: str | None) -> None:
    assert parse_budget(text) == Parsed(status, error=error)


def test_budget_uses_given_rates() -> None:
    rates = {"USD": 1.0, "EUR": 2.0}
    assert parse_budget("€1k", rates) == Parsed(OK, 2000)
    assert parse_budget("£1k", rates) == Parsed(INVALID, error="currency")


def test_default_rates_are_usd_based() -> None:
    assert DEFAULT_RATES["USD"] == 1.0
    assert set(DEFAULT_RATES) >= {"EUR", "GBP", "CAD", "AUD", "CHF", "INR", "JPY"}
