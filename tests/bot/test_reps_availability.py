"""Reps config validation, segment choice, round-robin routing, slots (DST, weekends, notice,
taken slots) and the visitor's typed slot choice."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.answers.meeting_choice import parse_slot_choice, wants_other_times
from bot.booking.availability import format_slot, is_bookable, next_slots
from bot.booking.reps import RepsConfigError, RoutingFacts, choose_segment, load_reps, next_rep
from bot.config.settings import PROJECT_ROOT
from bot.storage.engine import make_engine, make_session_factory, unit_of_work

REPS = load_reps(PROJECT_ROOT / "config" / "reps.yml")
ADA = REPS.rep("ada@example.com")  # Europe/Berlin, 45 min + 15 buffer, 2 h notice
BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def local_times(slots: list[datetime]) -> list[str]:
    return [s.astimezone(BERLIN).strftime("%a %d %H:%M") for s in slots]


# -- segments and routing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "facts, segment",
    [
        (RoutingFacts(company_size=1000), "enterprise"),
        (RoutingFacts(company_size=999), "default"),
        (RoutingFacts(company_size=5000, visitor_tz="America/Chicago"), "enterprise"),  # first
        (RoutingFacts(visitor_tz="America/Chicago"), "americas"),
        (RoutingFacts(visitor_tz="Europe/Paris"), "default"),
        (RoutingFacts(), "default"),
    ],
)
def test_first_matching_segment_else_default(facts: RoutingFacts, segment: str) -> None:
    assert choose_segment(REPS, facts).id == segment


def test_country_from_locale() -> None:
    assert RoutingFacts.country_from_locale("de-DE") == "DE"
    assert RoutingFacts.country_from_locale("en_gb") == "GB"
    assert RoutingFacts.country_from_locale("en") is None


def test_round_robin_is_fair_and_persistent(database_url: str) -> None:
    segment = REPS.segment("default")
    picks = []
    for _ in range(2):  # two "processes": a new engine each time, the cursor survives
        sessions = make_session_factory(make_engine(database_url))
        for _ in range(3):
            with unit_of_work(sessions) as session:
                picks.append(next_rep(session, REPS, segment).email)
    assert picks == list(segment.reps) * 2
    # A rolled-back assignment does not advance the cursor.
    with pytest.raises(RuntimeError), unit_of_work(sessions) as session:
        next_rep(session, REPS, segment)
        raise RuntimeError
    with unit_of_work(sessions) as session:
        assert next_rep(session, REPS, segment).email == segment.reps[0]


GOOD = (PROJECT_ROOT / "config" / "reps.yml").read_text()


@pytest.mark.parametrize(
    "old, new, problem",
    [
        (
            "timezone: Europe/Berlin",
            "timezone: Europe/Berlinn",
            "unknown time zone 'Europe/Berlinn'",
        ),
        ("email: grace@example.com", "email: ada@example.com", "listed twice"),
        ("email: grace@example.com", "email: grace", "invalid email"),
        ('mon: "09:00-12:00, 13:00-17:00"', 'mon: "17:00-09:00"', "end before they start"),
        ('mon: "09:00-12:00, 13:00-17:00"', 'mon: "9 to 5"', "cannot read working hours"),
        ('mon: "09:00-12:00, 13:00-17:00"', 'mon: "09:00-13:00, 12:00-17:00"', "overlap"),
        ('    mon: "09:00-12:00, 13:00-17:00"', '    monday: "09:00"', "unknown weekday"),
        ("reps: [ada@example.com]", "reps: [bob@example.com]", "unknown rep 'bob@example.com'"),
        ("default_segment: default", "default_segment: emea", "'emea' is not a segment"),
        ("{company_size_min: 1000}", "{company_size_min: 1000, company_size_max: 10}", "> company"),
        ("{company_size_min: 1000}", "{size: 1000}", "unknown key 'size'"),
        ("meeting_minutes: 45", "meeting_minutes: -5", "must be >= 0"),
        (
            "timezone: Europe/London",
            "timezone: Europe/London\n    calendar_url: calendar.google.com/x.ics",
            "calendar_url must be an http(s):// or webcal:// address",
        ),
    ],
)
def test_broken_reps_files(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert old in GOOD, old
    text = GOOD.replace(old, new, 1)
    path = tmp_path / "reps.yml"
    path.write_text(text)
    with pytest.raises(RepsConfigError) as error:
        load_reps(path)
    message = str(error.value)
    assert problem in message
    line = int(message.split(":")[1])
    assert new.split(",")[0].split(":")[0].strip() in text.splitlines()[line - 1] or line > 0


# -- slots ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, expected",
    [
        # Monday 08:00 Berlin: 2 h notice -> 10:00 is the first slot.
        (berlin(2026, 11, 23, 8, 0), ["Mon 23 10:00", "Mon 23 11:00", "Mon 23 13:00"]),
        # Notice edge: 07:59 -> 09:59 + notice, so 10:00 qualifies; 08:01 -> 11:00 first.
        (berlin(2026, 11, 23, 8, 1), ["Mon 23 11:00", "Mon 23 13:00", "Mon 23 14:00"]),
        # Friday afternoon: windows end 16:00 on Fridays, then the weekend is skipped.
        (berlin(2026, 11, 27, 12, 30), ["Fri 27 15:00", "Mon 30 09:00", "Mon 30 10:00"]),
        # Saturday: nothing until Monday.
        (berlin(2026, 11, 28, 10, 0), ["Mon 30 09:00", "Mon 30 10:00", "Mon 30 11:00"]),
        # Late in the evening: tomorrow morning.
        (berlin(2026, 11, 24, 22, 0), ["Wed 25 09:00", "Wed 25 10:00", "Wed 25 11:00"]),
    ],
)
def test_next_slots(now: datetime, expected: list[str]) -> None:
    assert local_times(next_slots(ADA, now)) == expected


def test_slots_are_utc_and_dst_correct_in_berlin() -> None:
    # Spring forward on Sun 29 March 2026: 09:00 Berlin is 08:00 UTC before, 07:00 UTC after.
    before = next_slots(ADA, berlin(2026, 3, 27, 6, 0), count=1)[0]
    after = next_slots(ADA, berlin(2026, 3, 28, 12, 0), count=1)[0]
    assert before == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # Fall back on Sun 25 October 2026: 09:00 Berlin is 07:00 UTC before, 08:00 UTC after.
    assert next_slots(ADA, berlin(2026, 10, 23, 6, 0), count=1)[0].hour == 7
    assert next_slots(ADA, berlin(2026, 10, 24, 12, 0), count=1)[0] == datetime(
        2026, 10, 26, 8, 0, tzinfo=UTC
    )
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in [before, after])


def test_a_window_across_the_dst_change_keeps_the_local_grid(tmp_path: Path) -> None:
    text = GOOD.replace("horizon_days: 14", "horizon_days: 3", 1)
    text = text.replace("    fri:", '    sun: "00:00-05:00"\n    fri:', 1)
    path = tmp_path / "reps.yml"
    path.write_text(text)
    rep = load_reps(path).rep("ada@example.com")
    slots = next_slots(rep, berlin(2026, 3, 28, 12, 0), count=5)
    # 02:00 does not exist on 29 March in Berlin; the hour after it keeps the grid.
    assert local_times(slots) == [
        "Sun 29 00:00",
        "Sun 29 01:00",
        "Sun 29 03:00",
        "Sun 29 04:00",
        "Mon 30 09:00",
    ]


def test_taken_slots_and_buffers() -> None:
    now = berlin(2026, 11, 23, 6, 0)
    ten = berlin(2026, 11, 23, 10, 0).astimezone(UTC)
    # A booked meeting at 10:00 removes 10:00.
    assert local_times(next_slots(ADA, now, [ten])) == [
        "Mon 23 09:00",
        "Mon 23 11:00",
        "Mon 23 13:00",
    ]
    # An outside meeting 10:50-11:10 blocks 10:00 (buffer before) and 11:00 (overlap).
    other = (berlin(2026, 11, 23, 10, 50), berlin(2026, 11, 23, 11, 10))
    assert local_times(next_slots(ADA, now, [other])) == [
        "Mon 23 09:00",
        "Mon 23 13:00",
        "Mon 23 14:00",
    ]
    # `after`: the next ones after those already offered.
    offered = next_slots(ADA, now)
    assert local_times(next_slots(ADA, now, after=offered[-1])) == [
        "Mon 23 13:00",
        "Mon 23 14:00",
        "Mon 23 15:00",
    ]


def test_free_slots_match_the_plain_rule_with_many_and_overlapping_busy_times() -> None:
    """Slots are checked against busy times by binary search; what is offered must be exactly
    what the plain rule gives (no slot whose meeting or buffer touches any busy interval),
    with all-day events overlapping meetings and hundreds of bookings."""
    rng = random.Random(11)
    now = berlin(2026, 11, 23, 6, 0)
    buffer, length = timedelta(minutes=ADA.buffer_minutes), timedelta(minutes=ADA.meeting_minutes)
    for _round in range(40):
        busy = []
        for _ in range(rng.randint(0, 300)):
            start = now + timedelta(minutes=rng.randrange(0, 14 * 24 * 60, 5))
            busy.append((start, start + timedelta(minutes=rng.choice([10, 45, 90, 24 * 60]))))
        offered = next_slots(ADA, now, busy, count=60)
        every = next_slots(ADA, now, [], count=400)

        def free(slot: datetime, busy: list = busy) -> bool:
            return all(
                not (slot - buffer < end and begin < slot + length + buffer) for begin, end in busy
            )

        assert offered == [slot for slot in every if free(slot)][:60]
        assert [is_bookable(ADA, s, now, busy) for s in every[:80]] == [free(s) for s in every[:80]]


def test_is_bookable() -> None:
    now = berlin(2026, 11, 23, 8, 0)
    assert is_bookable(ADA, berlin(2026, 11, 23, 10, 0), now)
    assert not is_bookable(ADA, berlin(2026, 11, 23, 9, 0), now)  # inside the notice
    assert not is_bookable(ADA, berlin(2026, 11, 23, 10, 30), now)  # off the grid
    assert not is_bookable(ADA, berlin(2026, 11, 28, 10, 0), now)  # Saturday
    assert not is_bookable(ADA, berlin(2026, 11, 23, 7, 0), now)  # the past
    assert not is_bookable(ADA, berlin(2026, 11, 23, 10, 0), now, [berlin(2026, 11, 23, 10, 0)])


@pytest.mark.parametrize(
    "zone, expected",
    [
        ("Europe/Berlin", "Tue 24 Nov, 10:00 (Europe/Berlin)"),
        ("America/New_York", "Tue 24 Nov, 04:00 (America/New_York)"),
        (None, "Tue 24 Nov, 09:00 (UTC)"),
        ("Not/AZone", "Tue 24 Nov, 09:00 (UTC)"),
    ],
)
def test_format_slot(zone: str | None, expected: str) -> None:
    assert format_slot(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), zone) == expected


# -- typed choices --------------------------------------------------------------------------

NOW = berlin(2026, 11, 23, 8, 0)  # Monday
OFFERED = [
    berlin(2026, 11, 23, 14, 0).astimezone(UTC),  # Mon 14:00 Berlin
    berlin(2026, 11, 24, 10, 0).astimezone(UTC),  # Tue 10:00
    berlin(2026, 11, 24, 15, 0).astimezone(UTC),  # Tue 15:00
]


@pytest.mark.parametrize(
    "text, index",
    [
        ("the second one", 1),
        ("2", 1),
        ("the first", 0),
        ("first one please", 0),
        ("option 3", 2),
        ("#3", 2),
        ("the last one", 2),
        ("Tuesday at 10", 1),
        ("tue 10:00", 1),
        ("10am works", 1),
        ("10 am", 1),
        ("3pm", 2),
        ("tuesday at 3", 2),  # no am/pm: 3 or 15
        ("at 15:00", 2),
        ("monday", 0),
        ("today at 2pm", 0),
        ("tomorrow at 10", 1),
        ("2026-11-24T09:00:00+00:00", 1),  # a button payload
        ("tuesday", None),  # two on Tuesday: ambiguous
        ("11am", None),  # not offered
        ("none of these work", None),
        ("7", None),
        ("", None),
        ("hmm", None),
    ],
)
def test_parse_slot_choice(text: str, index: int | None) -> None:
    expected = OFFERED[index] if index is not None else None
    assert parse_slot_choice(text, OFFERED, "Europe/Berlin", NOW) == expected


def test_typed_times_are_read_in_the_visitors_zone() -> None:
    # 10:00 Berlin is 04:00 in New York.
    assert parse_slot_choice("4am", OFFERED, "America/New_York", NOW) == OFFERED[1]
    assert parse_slot_choice("10am", OFFERED, None, NOW) is None  # UTC: 09:00
    assert parse_slot_choice("9am", OFFERED, None, NOW) == OFFERED[1]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("none of these work", True),
        ("None of them", True),
        ("do you have other times?", True),
        ("those don't work for me", True),
        ("can't make it, anything next week?", True),
        ("neither", True),
        ("the second one works", False),
        ("Tuesday at 10", False),
        ("yes", False),
    ],
)
def test_wants_other_times(text: str, expected: bool) -> None:
    assert wants_other_times(text) is expected
