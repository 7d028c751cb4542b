"""Reps' real calendars: feeds shaped like Google's, Microsoft 365's and Fastmail's exports, served
by a local HTTP server, read into the cache, and never offered or booked over."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, Tuple
from zoneinfo import ZoneInfo

import pytest

from bot.booking.availability import format_slot
from bot.booking.calendars import CalendarSync, FeedFetcher, parse_busy
from bot.booking.reps import RepsConfig, Segment, load_reps
from bot.booking.service import Booked, BookingService, SlotTaken
from bot.config.settings import PROJECT_ROOT, Settings
from bot.leads.store import LeadStore
from bot.outbox.delivery import Dispatcher, EmailDelivery, WebhookDelivery
from bot.outbox.queue import Outbox
from bot.outbox.worker import Worker
from bot.storage.engine import make_engine
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead

FEEDS = Path(__file__).parent / "feeds"
BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
ADA = load_reps(PROJECT_ROOT / "config" / "reps.yml").rep("ada@example.com")


class FeedServer:
    """Serves {path: (status, body)}; counts requests per path."""

    def __init__(self) -> None:
        self.routes: Dict[str, Tuple[int, bytes]] = {}
        self.hits: Dict[str, int] = {}
        self.url = ""

    def serve(self, path: str, body: bytes, status: int = 200) -> str:
        self.routes[path] = (status, body)
        return self.url + path


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    state = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state.hits[self.path] = state.hits.get(self.path, 0) + 1
            status, body = state.routes.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def berlin(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=BERLIN).astimezone(UTC)


def world(database_url: str, url: str, clock: Clock) -> Tuple[BookingService, CalendarSync]:
    rep = replace(ADA, calendar_url=url)
    reps = RepsConfig((rep,), (Segment("default", (rep.email,)),), "default", {rep.email: rep})
    engine = make_engine(database_url)
    calendars = CalendarSync(engine, reps, clock, FeedFetcher(timeout_s=3))
    booking = BookingService(
        engine,
        reps,
        clock,
        PublicUrls("http://127.0.0.1:8080"),
        offer_count=40,
        calendars=calendars,
    )
    return booking, calendars


def test_parse_expands_recurrence_exceptions_zones_and_all_day_events() -> None:
    window = (datetime(2026, 11, 22, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))
    google = parse_busy((FEEDS / "google_berlin.ics").read_bytes(), "Europe/Berlin", *window)
    assert google == [
        # Monday's 10:00 sync was moved to 13:00 (RECURRENCE-ID override); the free (TRANSP)
        # 15:00 focus block and the cancelled 16:00 call don't count.
        (berlin(23, 13), berlin(23, 14)),
        # All day Tuesday, midnight to midnight in the rep's zone.
        (berlin(24, 0), berlin(25, 0)),
        # Wednesday's 10:00 is an EXDATE; a UTC event with a DURATION (Fastmail style) is not.
        (datetime(2026, 11, 25, 13, tzinfo=UTC), datetime(2026, 11, 25, 14, tzinfo=UTC)),
        (berlin(30, 10), berlin(30, 11)),
        (berlin(2, 10, month=12), berlin(2, 11, month=12)),
    ]
    # Microsoft 365: Windows zone names with their own VTIMEZONE, a daily series with an
    # EXDATE and UNTIL, an out-of-office all-day event, and a "free" multi-day one.
    m365 = parse_busy((FEEDS / "m365_windows_tz.ics").read_bytes(), "America/New_York", *window)
    assert m365 == [
        (datetime(2026, 11, 23, 14, tzinfo=UTC), datetime(2026, 11, 23, 14, 30, tzinfo=UTC)),
        (datetime(2026, 11, 25, 14, tzinfo=UTC), datetime(2026, 11, 25, 14, 30, tzinfo=UTC)),
        (datetime(2026, 11, 26, 5, tzinfo=UTC), datetime(2026, 11, 27, 5, tzinfo=UTC)),
        (datetime(2026, 11, 27, 14, tzinfo=UTC), datetime(2026, 11, 27, 14, 30, tzinfo=UTC)),
    ]


def test_busy_times_in_the_feed_are_never_offered(database_url: str, feeds: FeedServer) -> None:
    clock = Clock()  # Monday 23 Nov, 08:00 in Berlin; 2 h notice
    url = feeds.serve("/ada/basic.ics", (FEEDS / "google_berlin.ics").read_bytes())
    booking, _ = world(database_url, url, clock)
    make_lead(LeadStore(make_engine(database_url)), "v1")

    offered = booking.offer("v1", "Europe/Berlin").slots
    assert feeds.hits["/ada/basic.ics"] == 1  # read at once: never offered before it is known
    first_days = [format_slot(slot, "Europe/Berlin") for slot in offered[:10]]
    assert first_days == [
        "Mon 23 Nov, 10:00 (Europe/Berlin)",  # the series' 10:00 moved away today
        "Mon 23 Nov, 11:00 (Europe/Berlin)",
        # 13:00 busy, 14:00 inside the 15-minute buffer after it; Tuesday is all-day busy
        "Mon 23 Nov, 15:00 (Europe/Berlin)",
        "Mon 23 Nov, 16:00 (Europe/Berlin)",
        "Wed 25 Nov, 09:00 (Europe/Berlin)",
        "Wed 25 Nov, 10:00 (Europe/Berlin)",  # EXDATE: this week's sync is off
        "Wed 25 Nov, 11:00 (Europe/Berlin)",
        "Wed 25 Nov, 13:00 (Europe/Berlin)",
        "Wed 25 Nov, 16:00 (Europe/Berlin)",  # 14:00-15:00 busy (UTC event) + buffer
        "Thu 26 Nov, 09:00 (Europe/Berlin)",
    ]
    busy = parse_busy(
        (FEEDS / "google_berlin.ics").read_bytes(),
        "Europe/Berlin",
        clock() - timedelta(days=1),
        clock() + timedelta(days=30),
    )
    length = timedelta(minutes=ADA.meeting_minutes)
    for slot in offered:
        assert all(not (slot < end and start < slot + length) for start, end in busy), slot

    # A busy time can't be booked either, even by a client that never saw the offer.
    refused = booking.book("v1", ADA.email, berlin(23, 13), "Europe/Berlin")
    assert isinstance(refused, SlotTaken) and refused.alternatives[0] == berlin(23, 10)
    assert isinstance(booking.book("v1", ADA.email, berlin(23, 10), "Europe/Berlin"), Booked)


def test_the_worker_refreshes_the_cache_and_a_broken_feed_offers_nothing(
    database_url: str, feeds: FeedServer, tmp_path: Path
) -> None:
    clock = Clock()
    empty = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Fastmail//EN\r\nEND:VCALENDAR\r\n"
    url = feeds.serve("/ada.ics", empty)
    booking, calendars = world(database_url, url, clock)
    make_lead(LeadStore(make_engine(database_url)), "v1")
    settings = Settings(database_url=database_url, outbox_mail_dir=tmp_path / "mail")
    worker = Worker(
        Outbox(make_engine(database_url)),
        Dispatcher(EmailDelivery(settings), WebhookDelivery()),
        clock=clock,
        calendars=calendars,
    )
    assert worker.run_once().calendars_refreshed == 1
    assert booking.offer("v1", "Europe/Berlin").slots[0] == berlin(23, 10)

    # The rep accepts a meeting at 10:00 in their own calendar: after the next refresh the
    # bot stops offering it.
    accepted = (
        b"BEGIN:VEVENT\r\nUID:new-meeting@example.com\r\nDTSTAMP:20261123T070000Z\r\n"
        b"DTSTART;TZID=Europe/Berlin:20261123T100000\r\n"
        b"DTEND;TZID=Europe/Berlin:20261123T104500\r\nSUMMARY:Busy\r\nEND:VEVENT\r\n"
    )
    feeds.serve("/ada.ics", empty.replace(b"END:VCALENDAR", accepted + b"END:VCALENDAR"))
    assert worker.run_once().calendars_refreshed == 0  # not due yet
    clock.advance(minutes=6)
    assert worker.run_once().calendars_refreshed == 1
    assert booking.offer("v1", "Europe/Berlin").slots[0] == berlin(23, 11)

    # The feed breaks: the last good copy stays in use.
    feeds.serve("/ada.ics", b"gateway error", status=502)
    clock.advance(minutes=6)
    assert worker.run_once().calendars_refreshed == 0
    assert booking.offer("v1", "Europe/Berlin").slots[0] == berlin(23, 11)

    # A new feed address that can't be read: nothing is offered rather than a guess.
    broken_booking, _ = world(database_url, feeds.url + "/missing.ics", clock)
    assert broken_booking.offer("v1", "Europe/Berlin").slots == ()
    assert broken_booking.book("v1", ADA.email, berlin(23, 11), None) == SlotTaken(
        ADA.email, berlin(23, 11), ()
    )
