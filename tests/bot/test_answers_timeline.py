"""Table-driven tests for `parse_timeline`, on fixed dates in different quarters."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.answers import Parsed, Status, parse_timeline

OK, DECLINED, UNKNOWN, INVALID = Status.OK, Status.DECLINED, Status.UNKNOWN, Status.INVALID

NOV_23 = dt.date(2026, 11, 23)  # Q4, one month before year end
FEB_10 = dt.date(2026, 2, 10)  # Q1
JUL_01 = dt.date(2026, 7, 1)  # first day of Q3 / H2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # right now
        ("as soon as possible", 0),
        ("ASAP!!!", 0),
        ("asap pls", 0),
        ("a.s.a.p.", 0),
        ("as soon as posible", 0),
        ("right away", 0),
        ("immediately", 0),
        ("imediately", 0),
        ("yesterday lol", 0),
        ("this week", 0),
        ("next week", 0),
        ("urgent", 0),
        ("today", 0),
        ("tomorrow", 0),
        ("next friday", 0),
        ("within 2 weeks", 0),
        ("in a few days", 0),
        ("this month", 0),
        ("by the end of the month", 0),
        ("this quarter", 0),
        ("Q4", 0),
        ("H2", 0),
        ("this year", 0),  # half-way to December, rounded down
        ("later this year", 0),
        # relative durations
        ("next month", 1),
        ("by summer 2027", 7),  # June 2027, not the start of 2027
        ("within 90 days", 3),
        ("within a month", 1),
        ("in six weeks", 1),
        ("in 3 months", 3),
        ("in three months", 3),
        ("in 6 monts", 6),
        ("3-6 months", 4),
        ("3 to 6 months", 4),
        ("6 months to a year", 9),
        ("1-2 years", 18),
        ("half a year", 6),
        ("a year", 12),
        ("in a year or so", 12),
        ("a year and a half", 18),
        ("in 2 yrs", 24),
        ("in two years time", 24),
        ("18 months", 18),
        ("a couple of months", 2),
        ("few months", 3),
        ("in the next few months", 3),
        ("several months", 4),
        ("within the next 12 months", 12),
        ("soon", 1),
        ("in the coming months", 3),
        # calendar
        ("next year", 2),
        ("early next year", 2),
        ("mid next year", 7),
        ("end of next year", 13),
        ("in 2027", 2),
        ("early 2027", 2),
        ("mid 2027", 7),
        ("by the end of the year", 1),
        ("eoy", 1),
        ("end of the quarter", 1),
        ("next quarter", 2),
        ("nxt quarter", 2),
        ("in Q3", 8),
        ("Q1 2027", 2),
        ("q3 2027", 8),
        ("3rd quarter", 8),
        ("end of Q1", 4),
        ("H1", 2),
        ("second half of next year", 8),
        ("by March", 4),
        ("march next year", 4),
        ("by febuary", 3),
        ("mid-June", 7),
        ("sometime in May", 6),
        ("december", 1),
        ("Dec 2026", 1),
        ("in the summer", 7),
        ("next summer", 7),
        ("winter", 1),
        ("after the holidays", 2),
        ("before christmas", 1),
        ("15/03/2027", 4),
        ("2027-05-01", 6),
        ("not right now, maybe next year", 2),
        ("no rush, sometime next year", 2),
        ("not sure, probably Q2", 5),
    ],
)
def test_timeline_from_november(text: str, expected: int) -> None:
    assert parse_timeline(text, NOV_23) == Parsed(OK, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("asap", 0),
        ("Q1", 0),
        ("this quarter", 0),
        ("end of the quarter", 1),
        ("next quarter", 2),
        ("in Q3", 5),
        ("this year", 5),
        ("by the end of the year", 10),
        ("next year", 11),
        ("H1", 0),
        ("H2", 5),
        ("by March", 1),
        ("by end of feb", 0),
        ("in the summer", 4),
        ("winter", 0),
        ("in 3 months", 3),
        ("Q1 2026", 0),
    ],
)
def test_timeline_from_february(text: str, expected: int) -> None:
    assert parse_timeline(text, FEB_10) == Parsed(OK, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in Q3", 0),
        ("Q1", 6),
        ("end of the quarter", 2),
        ("next quarter", 3),
        ("in the summer", 0),
        ("next summer", 11),
        ("after the summer", 2),
        ("next year", 6),
        ("this year", 2),
        ("H1", 6),
        ("by March", 8),
    ],
)
def test_timeline_from_july(text: str, expected: int) -> None:
    assert parse_timeline(text, JUL_01) == Parsed(OK, expected)


def test_next_year_in_december_is_at_least_one_month() -> None:
    assert parse_timeline("next year", dt.date(2026, 12, 31)) == Parsed(OK, 1)


@pytest.mark.parametrize(
    ("text", "status", "error"),
    [
        ("", INVALID, "empty"),
        ("  ", INVALID, "empty"),
        ("soon " * 2500, INVALID, "too_long"),
        ("<script>alert(1)</script>", INVALID, "markup"),
        ("banana", INVALID, "no_time"),
        ("🤷", INVALID, "no_time"),
        ("by 2025", INVALID, "past"),
        ("Q1 2026", INVALID, "past"),
        ("just looking around", UNKNOWN, None),
        ("only researching", UNKNOWN, None),
        ("Just browsing for now", UNKNOWN, None),
        ("no plans yet", UNKNOWN, None),
        ("not sure", UNKNOWN, None),
        ("browsing", UNKNOWN, None),
        ("just researching for Q3 planning", UNKNOWN, None),
        ("whenever", UNKNOWN, None),
        ("maybe later", UNKNOWN, None),
        ("not now", UNKNOWN, None),
        ("no rush", UNKNOWN, None),
        ("tbd", UNKNOWN, None),
        ("dunno", UNKNOWN, None),
        ("jsut lookin around", UNKNOWN, None),
        ("prefer not to say", DECLINED, None),
        ("I'd rather not say", DECLINED, None),
    ],
)
def test_timeline_other(text: str, status: Status, error: str | None) -> None:
    assert parse_timeline(text, NOV_23) == Parsed(status, error=error)
