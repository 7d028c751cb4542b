"""Reps' real calendars: busy times read from an iCalendar free/busy feed, cached in the database.

A rep may set `calendar_url` in config/reps.yml: the secret iCal address Google Calendar,
Microsoft 365 ("publish calendar", ICS link) or Fastmail export. `parse_busy()` is pure: it expands
recurring events (RRULE, RDATE, EXDATE, and RECURRENCE-ID overrides that move or cancel one
occurrence) with `recurring-ical-events`, honours time zones (VTIMEZONE, X-WR-TIMEZONE, floating
times in the rep's zone) and all-day events (the whole day in the rep's zone), and skips what
does not block time (TRANSP:TRANSPARENT, STATUS:CANCELLED). VFREEBUSY periods count too.

`CalendarSync` keeps the busy intervals in `calendar_busy`, replaced in one transaction per
refresh; the worker calls `refresh_due()`. A feed that has never been read (or whose URL changed)
is read at once when its rep's times are asked for; if it cannot be read, that rep offers no
times rather than times that may be taken. A later failure keeps the last good copy.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable, List, Mapping, Sequence, Tuple
from zoneinfo import ZoneInfo

import recurring_ical_events
import requests
from icalendar import Calendar
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.booking.reps import Rep, RepsConfig
from bot.clock import Clock
from bot.storage.engine import make_session_factory, unit_of_work
from bot.storage.models import CalendarBusy, CalendarSource

log = logging.getLogger(__name__)

Interval = Tuple[datetime, datetime]

MAX_FEED_BYTES = 10 * 1024 * 1024  # a busy person's year is well under 1 MB
CONNECT_TIMEOUT_S = 5.0


class FeedError(Exception):
    """The feed could not be read or parsed; the message holds no URL (URLs carry secrets)."""


def _as_utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as aware UTC: dates start at midnight and floating times are the
    rep's own wall-clock time."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(timezone.utc)


def _blocks_time(event: Mapping) -> bool:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    return str(event.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT"


def _event_interval(event, zone: ZoneInfo) -> Interval | None:  # type: ignore[no-untyped-def]
    try:
        start, end = event.start, event.end
    except (KeyError, ValueError, AttributeError, TypeError):
        try:
            start = event.start
        except (KeyError, ValueError, AttributeError, TypeError):
            return None
        # RFC 5545: no DTEND and no DURATION is one day for a date, an instant otherwise.
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    begin, finish = _as_utc(start, zone), _as_utc(end, zone)
    return (begin, finish) if finish > begin else None


def _freebusy(calendar: Calendar, zone: ZoneInfo) -> List[Interval]:
    intervals = []
    for component in calendar.walk("VFREEBUSY"):
        values = component.get("FREEBUSY")
        if values is None:
            continue
        for prop in values if isinstance(values, list) else [values]:
            if str(prop.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            for period in prop.dts if hasattr(prop, "dts") else [prop]:
                start, end = period.dt if hasattr(period, "dt") else period
                if isinstance(end, timedelta):
                    end = start + end
                intervals.append((_as_utc(start, zone), _as_utc(end, zone)))
    return intervals


def merge(intervals: Iterable[Interval]) -> List[Interval]:
    """Sorted, with overlapping or touching intervals joined."""
    merged: List[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def parse_busy(
    text: str | bytes, zone_name: str, window_start: datetime, window_end: datetime
) -> List[Interval]:
    """The busy intervals (UTC, merged) of an iCalendar text that overlap the window."""
    zone = ZoneInfo(zone_name)
    try:
        calendar = Calendar.from_ical(text)
        events = recurring_ical_events.of(calendar, skip_bad_series=True).between(
            window_start, window_end
        )
        intervals = [
            interval
            for event in events
            if _blocks_time(event)
            for interval in [_event_interval(event, zone)]
            if interval is not None
        ]
        intervals += _freebusy(calendar, zone)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise FeedError(f"not a readable iCalendar feed ({type(error).__name__})") from error
    return [
        (max(start, window_start), min(end, window_end))
        for start, end in merge(intervals)
        if end > window_start and start < window_end
    ]


Fetch = Callable[[str], bytes]


class FeedFetcher:
    """GETs feeds with one `requests.Session`, explicit timeouts and a size limit."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "Leadbot/0.1 (+calendar)"
        self._timeout = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)

    def __call__(self, url: str) -> bytes:
        if url.startswith("webcal://"):  # what calendar apps hand out; the same over HTTPS
            url = "https://" + url[len("webcal://") :]
        try:
            with self._session.get(url, timeout=self._timeout, stream=True) as response:
                if not 200 <= response.status_code < 300:
                    raise FeedError(f"HTTP {response.status_code}")
                body = b""
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > MAX_FEED_BYTES:
                        raise FeedError("feed too large")
                return body
        except requests.RequestException as error:
            raise FeedError(type(error).__name__) from error

    def close(self) -> None:
        self._session.close()


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RefreshReport:
    refreshed: int = 0
    failed: int = 0


class CalendarSync:
    """Reads reps' feeds into the `calendar_busy` cache and answers "when is this rep busy?"."""

    def __init__(
        self,
        engine: Engine,
        reps: RepsConfig,
        clock: Clock,
        fetch: Fetch | None = None,
        refresh_seconds: float = 300.0,
        retry_seconds: float = 60.0,
    ) -> None:
        self._sessions = make_session_factory(engine)
        self.reps = reps
        self.clock = clock
        self.fetch: Fetch = fetch or FeedFetcher()
        self.refresh_every = timedelta(seconds=refresh_seconds)
        self.retry_after = timedelta(seconds=retry_seconds)

    def _window(self, rep: Rep, now: datetime) -> Interval:
        return now - timedelta(days=1), now + timedelta(days=rep.horizon_days + 2)

    def refresh(self, rep: Rep) -> bool:
        """Read the rep's feed now and replace the cached busy times; False if it failed."""
        if not rep.calendar_url:
            return False
        now = self.clock()
        start, end = self._window(rep, now)
        error = None
        busy: Sequence[Interval] = ()
        try:
            busy = parse_busy(self.fetch(rep.calendar_url), rep.timezone, start, end)
        except FeedError as failure:
            error = str(failure)[:200]
            # The rep's address only: the feed URL is a secret.
            log.warning("calendar feed of %s could not be read: %s", rep.email, error)
        try:
            self._store(rep, now, busy, error)
        except IntegrityError:  # another process stored its first read at the same moment
            return self._known(rep)
        return error is None

    def _store(self, rep: Rep, now: datetime, busy: Sequence[Interval], error: str | None) -> None:
        with unit_of_work(self._sessions) as session:
            source = session.get(CalendarSource, rep.email)
            if source is None:
                source = CalendarSource(
                    rep_email=rep.email, ok=False, busy_count=0, url_hash="", next_refresh_at=now
                )
                session.add(source)
            if source.url_hash != url_hash(rep.calendar_url):
                source.ok = False  # what was read before came from another feed
            source.url_hash = url_hash(rep.calendar_url)
            if error is None or not source.ok:
                session.execute(delete(CalendarBusy).where(CalendarBusy.rep_email == rep.email))
            if error is None:
                session.add_all(
                    CalendarBusy(rep_email=rep.email, start_utc=s, end_utc=e) for s, e in busy
                )
                source.ok, source.fetched_at, source.busy_count = True, now, len(busy)
                source.last_error, source.next_refresh_at = None, now + self.refresh_every
            else:
                source.last_error, source.next_refresh_at = error, now + self.retry_after
                # A feed read before keeps its last good copy (`ok` stays as it was).

    def refresh_due(self) -> RefreshReport:
        """Refresh every feed that is due (the worker calls this every round)."""
        now = self.clock()
        refreshed = failed = 0
        for rep in self.reps.reps:
            if not rep.calendar_url:
                continue
            with unit_of_work(self._sessions) as session:
                source = session.get(CalendarSource, rep.email)
                due = (
                    source is None
                    or source.url_hash != url_hash(rep.calendar_url)
                    or source.next_refresh_at <= now
                )
            if due:
                if self.refresh(rep):
                    refreshed += 1
                else:
                    failed += 1
        return RefreshReport(refreshed, failed)

    def busy(self, rep: Rep) -> List[Interval] | None:
        """The rep's cached busy times; None when the rep's calendar is unknown (a feed is set
        but was never read successfully from this URL), so no time may be offered."""
        if not rep.calendar_url:
            return []
        if not self._known(rep):
            self.refresh(rep)
            if not self._known(rep):
                return None
        since = self.clock() - timedelta(days=1)
        with unit_of_work(self._sessions) as session:
            rows = session.execute(
                select(CalendarBusy.start_utc, CalendarBusy.end_utc).where(
                    CalendarBusy.rep_email == rep.email, CalendarBusy.end_utc >= since
                )
            ).all()
            return [(start, end) for start, end in rows]

    def _known(self, rep: Rep) -> bool:
        with unit_of_work(self._sessions) as session:
            source = session.get(CalendarSource, rep.email)
            return (
                source is not None and source.ok and source.url_hash == url_hash(rep.calendar_url)
            )
