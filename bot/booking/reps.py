"""Sales reps, their working hours, and which rep a lead is routed to.

`load_reps()` reads `config/reps.yml` (validated, errors name the line). `choose_segment()` is
pure: the first segment whose conditions match, else the default. `next_rep()` is round-robin
within a segment with a cursor row in the database, advanced by an UPDATE inside the caller's
transaction, so concurrent assignments go to different reps and the order survives restarts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Mapping, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config.yamlfile import ConfigError, Map, Reader, items
from bot.storage.models import RoutingCursor

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONDITIONS = ("company_size_min", "company_size_max", "timezone_prefixes", "countries")


class RepsConfigError(ConfigError):
    """config/reps.yml cannot be used; the message names the line and the problem."""


Window = Tuple[time, time]


@dataclass(frozen=True)
class Rep:
    name: str
    email: str
    timezone: str  # IANA name
    # weekday (0 = Monday) -> working windows in the rep's local time
    working_hours: Mapping[int, Tuple[Window, ...]]
    meeting_minutes: int = 45
    buffer_minutes: int = 15
    min_notice_minutes: int = 120
    horizon_days: int = 14
    # Secret iCalendar (free/busy) feed address; busy times there are never offered.
    calendar_url: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Segment:
    id: str
    reps: Tuple[str, ...]  # rep emails, in round-robin order
    company_size_min: int | None = None
    company_size_max: int | None = None
    timezone_prefixes: Tuple[str, ...] = ()
    countries: Tuple[str, ...] = ()

    def matches(self, facts: RoutingFacts) -> bool:
        if self.company_size_min is not None and (
            facts.company_size is None or facts.company_size < self.company_size_min
        ):
            return False
        if self.company_size_max is not None and (
            facts.company_size is None or facts.company_size > self.company_size_max
        ):
            return False
        if self.timezone_prefixes and not (
            facts.visitor_tz and facts.visitor_tz.startswith(self.timezone_prefixes)
        ):
            return False
        if self.countries and (facts.country or "").upper() not in self.countries:
            return False
        return True


@dataclass(frozen=True)
class RoutingFacts:
    company_size: int | None = None
    visitor_tz: str | None = None
    country: str | None = None  # ISO 3166 code, e.g. from the locale "de-DE"

    @staticmethod
    def country_from_locale(locale: str | None) -> str | None:
        parts = re.split(r"[-_]", locale or "")
        return parts[-1].upper() if len(parts) >= 2 and len(parts[-1]) == 2 else None


@dataclass(frozen=True)
class RepsConfig:
    reps: Tuple[Rep, ...]
    segments: Tuple[Segment, ...]
    default_segment: str
    by_email: Mapping[str, Rep] = field(default_factory=dict)

    def rep(self, email: str) -> Rep | None:
        return self.by_email.get(email.strip().lower())

    def segment(self, segment_id: str) -> Segment:
        return next(s for s in self.segments if s.id == segment_id)


def choose_segment(config: RepsConfig, facts: RoutingFacts) -> Segment:
    """The first segment (other than the default) whose conditions match, else the default."""
    for segment in config.segments:
        if segment.id != config.default_segment and segment.matches(facts):
            return segment
    return config.segment(config.default_segment)


def next_rep(session: Session, config: RepsConfig, segment: Segment) -> Rep:
    """Advance the segment's round-robin cursor (in the caller's transaction) and return a rep.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite) before the position is
    read back, so two concurrent transactions can never read the same position.
    """
    advanced = session.execute(
        update(RoutingCursor)
        .where(RoutingCursor.segment == segment.id)
        .values(position=RoutingCursor.position + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not advanced:
        try:
            with session.begin_nested():
                session.add(RoutingCursor(segment=segment.id, position=1))
        except IntegrityError:  # another transaction created it first: advance that one
            session.execute(
                update(RoutingCursor)
                .where(RoutingCursor.segment == segment.id)
                .values(position=RoutingCursor.position + 1)
                .execution_options(synchronize_session=False)
            )
    position = session.execute(
        select(RoutingCursor.position).where(RoutingCursor.segment == segment.id)
    ).scalar_one()
    return config.by_email[segment.reps[(position - 1) % len(segment.reps)]]


# -- loading and validation ---------------------------------------------------------------


def _windows(reader: Reader, hours: Map, day: str) -> Tuple[Window, ...]:
    value = hours.get(day)
    line = hours.line_of(day)
    if value in (None, "", "off"):
        return ()
    if not isinstance(value, str):
        raise reader.fail(line, f'working hours for {day} must be text like "09:00-17:00"')
    windows: list[Window] = []
    for part in value.split(","):
        match = _WINDOW.match(part)
        if not match:
            raise reader.fail(line, f"cannot read working hours {part.strip()!r} (use HH:MM-HH:MM)")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise reader.fail(line, f"working hours {part.strip()!r} is not a time of day")
        start, end = time(h1, m1), time(23, 59, 59) if h2 == 24 else time(h2, m2)
        if start >= end:
            raise reader.fail(line, f"working hours {part.strip()!r} end before they start")
        if windows and start < windows[-1][1]:
            raise reader.fail(line, f"working hours on {day} overlap or are out of order")
        windows.append((start, end))
    return tuple(windows)


def _hours(reader: Reader, hours: Map) -> Mapping[int, Tuple[Window, ...]]:
    for day in hours:
        if day not in WEEKDAYS:
            raise reader.fail(hours.line_of(day), f"unknown weekday '{day}' (use mon..sun)")
    return {index: _windows(reader, hours, day) for index, day in enumerate(WEEKDAYS)}


def load_reps(path: Path) -> RepsConfig:
    """Read and validate the reps file."""
    reader = Reader(path, RepsConfigError)
    doc = reader.load()
    reader.only_keys(doc, ("defaults", "reps", "segments", "default_segment"), "the reps file")
    defaults = reader.mapping(doc, "defaults", required=False)
    numbers = ("meeting_minutes", "buffer_minutes", "min_notice_minutes", "horizon_days")
    reader.only_keys(defaults, (*numbers, "working_hours"), "defaults")
    base = {"meeting_minutes": 45, "buffer_minutes": 15, "min_notice_minutes": 120}
    base["horizon_days"] = 14
    for key in numbers:
        if key in defaults:
            base[key] = reader.integer(defaults, key, f"defaults.{key}", minimum=0)
    default_hours = (
        _hours(reader, reader.mapping(defaults, "working_hours"))
        if "working_hours" in defaults
        else None
    )

    reps: list[Rep] = []
    by_email: dict[str, Rep] = {}
    rep_list = reader.sequence(doc, "reps")
    if not rep_list:
        raise reader.fail(rep_list.line, "there must be at least one rep")
    for line, raw in items(rep_list):
        if not isinstance(raw, Map):
            raise reader.fail(line, "each rep must be a mapping with name, email, timezone")
        reader.only_keys(
            raw, ("name", "email", "timezone", "working_hours", "calendar_url", *numbers), "a rep"
        )
        name = reader.text(raw, "name", "rep name")
        email = reader.text(raw, "email", f"email of rep '{name}'").strip().lower()
        if not _EMAIL.match(email):
            raise reader.fail(raw.line_of("email"), f"rep '{name}' has an invalid email {email!r}")
        if email in by_email:
            raise reader.fail(raw.line_of("email"), f"rep email {email} is listed twice")
        zone = reader.text(raw, "timezone", f"time zone of rep '{name}'")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise reader.fail(
                raw.line_of("timezone"),
                f"rep '{name}' has unknown time zone {zone!r} (IANA name, e.g. Europe/Paris)",
            ) from error
        values = {
            key: reader.integer(raw, key, f"{key} of rep '{name}'", minimum=0)
            if key in raw
            else base[key]
            for key in numbers
        }
        if values["meeting_minutes"] < 5:
            raise reader.fail(
                raw.line_of("meeting_minutes"), f"rep '{name}' meeting_minutes must be >= 5"
            )
        if "working_hours" in raw:
            hours = _hours(reader, reader.mapping(raw, "working_hours"))
        elif default_hours is not None:
            hours = default_hours
        else:
            raise reader.fail(line, f"rep '{name}' has no working_hours (and no defaults)")
        if not any(hours.values()):
            raise reader.fail(line, f"rep '{name}' has no working hours on any day")
        calendar_url = str(raw.get("calendar_url") or "").strip()
        if calendar_url and not re.match(r"^(https?|webcal)://[^\s/]+", calendar_url):
            raise reader.fail(
                raw.line_of("calendar_url"),
                f"rep '{name}' calendar_url must be an http(s):// or webcal:// address",
            )
        rep = Rep(
            name=name,
            email=email,
            timezone=zone,
            working_hours=hours,
            calendar_url=calendar_url,
            **values,
        )
        reps.append(rep)
        by_email[email] = rep

    segments: list[Segment] = []
    for line, raw in items(reader.sequence(doc, "segments")):
        if not isinstance(raw, Map):
            raise reader.fail(line, "each segment must be a mapping with id, reps and when")
        reader.only_keys(raw, ("id", "reps", "when"), "a segment")
        segment_id = reader.text(raw, "id", "segment id")
        if any(s.id == segment_id for s in segments):
            raise reader.fail(raw.line_of("id"), f"segment '{segment_id}' is defined twice")
        members = reader.sequence(raw, "reps")
        if not members:
            raise reader.fail(raw.line_of("reps"), f"segment '{segment_id}' has no reps")
        emails = []
        for member_line, member in items(members):
            email = str(member).strip().lower()
            if email not in by_email:
                raise reader.fail(
                    member_line, f"segment '{segment_id}' names unknown rep {member!r}"
                )
            emails.append(email)
        when = reader.mapping(raw, "when", required=False)
        reader.only_keys(when, CONDITIONS, f"segment '{segment_id}' conditions")
        low = (
            reader.integer(when, "company_size_min", "company_size_min", minimum=0)
            if "company_size_min" in when
            else None
        )
        high = (
            reader.integer(when, "company_size_max", "company_size_max", minimum=0)
            if "company_size_max" in when
            else None
        )
        if low is not None and high is not None and low > high:
            raise reader.fail(
                when.line_of("company_size_max"),
                f"segment '{segment_id}' has company_size_min {low} > company_size_max {high}",
            )
        prefixes = tuple(str(p) for p in reader.sequence(when, "timezone_prefixes", required=False))
        countries = tuple(
            str(c).strip().upper() for c in reader.sequence(when, "countries", required=False)
        )
        for country in countries:
            if not re.fullmatch(r"[A-Z]{2}", country):
                raise reader.fail(
                    when.line_of("countries"), f"country {country!r} is not a two-letter ISO code"
                )
        segments.append(Segment(segment_id, tuple(emails), low, high, prefixes, countries))

    default = reader.text(doc, "default_segment", "default_segment")
    if not any(s.id == default for s in segments):
        raise reader.fail(
            doc.line_of("default_segment"), f"default_segment '{default}' is not a segment"
        )
    return RepsConfig(tuple(reps), tuple(segments), default, by_email)
