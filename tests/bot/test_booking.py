"""Booking: routing + offer, the atomic booking (one transaction, outbox rows), the double-booking
race on SQLite and PostgreSQL, and the .ics invite and feed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.booking.ics import unfold
from bot.booking.reps import load_reps
from bot.booking.service import AlreadyBooked, Booked, BookingError, BookingService, SlotTaken
from bot.config.settings import PROJECT_ROOT
from bot.crm import events as crm_events
from bot.leads.store import LeadStore
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import Meeting, OutboxItem
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead

REPS = load_reps(PROJECT_ROOT / "config" / "reps.yml")

URLS = PublicUrls("http://127.0.0.1:8080")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    crm_events.enable(engine)  # as build_services does when a CRM is configured
    return engine


@pytest.fixture
def service(engine: Engine, clock: Clock) -> BookingService:
    return BookingService(
        engine,
        REPS,
        clock,
        URLS,
        rep_webhook_url="http://127.0.0.1:9/rep",
    )


@pytest.fixture
def store(engine: Engine) -> LeadStore:
    return LeadStore(engine)


def rows(database_url: str, model, **where):  # type: ignore[no-untyped-def]
    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        query = select(model).filter_by(**where)
        return session.execute(query).scalars().all()


def test_offer_routes_round_robin_and_keeps_the_rep(service: BookingService, store) -> None:
    for cid in ("a", "b", "c", "d"):
        make_lead(store, cid)
    reps = [service.offer(cid, "Europe/Berlin").rep.email for cid in ("a", "b", "c", "d")]
    assert reps == list(REPS.segment("default").reps) + [REPS.segment("default").reps[0]]
    assert service.offer("a").rep.email == reps[0]  # asked again: same rep, cursor unchanged
    offer = service.offer("b", "Europe/Berlin")
    assert len(offer.slots) == 3 and offer.segment == "default"
    assert offer.labels("Europe/Berlin")[0].endswith("(Europe/Berlin)")
    make_lead(store, "big", company_size=5000)
    assert service.offer("big").segment == "enterprise"
    with pytest.raises(BookingError):
        service.offer("no-consent")


def test_book_is_one_transaction_with_the_notifications(
    service: BookingService, store: LeadStore, database_url: str
) -> None:
    make_lead(store, "c1")
    offer = service.offer("c1", "Europe/Berlin")
    result = service.book("c1", offer.rep.email, offer.slots[1], "Europe/Berlin")
    assert isinstance(result, Booked)
    lead = store.get("c1")
    assert lead["outcome"] == "meeting_booked" and lead["rep_email"] == offer.rep.email
    assert lead["meeting_start"] == offer.slots[1].isoformat().replace("+00:00", "Z")
    items = rows(database_url, OutboxItem, conversation_id="c1")
    kinds = sorted(
        (item.kind, item.payload.get("integration") or item.payload.get("event", {}).get("type"))
        for item in items
    )
    assert kinds == [
        ("crm", "lead.created"),
        ("crm", "lead.qualified"),
        ("crm", "meeting.booked"),
        ("email", None),  # the rep's notification
        ("email", None),  # the visitor's confirmation
        ("webhook", "rep"),
    ]
    booked = next(i for i in items if i.kind == "crm" and "meeting" in i.payload["event"]["data"])
    event = booked.payload["event"]
    assert event["data"]["meeting"]["start"] == lead["meeting_start"]
    assert "'c1'" not in str(event)  # the opaque lead id, never the conversation id
    emails = {item.payload["to"][0]: item for item in items if item.kind == "email"}
    email = emails[offer.rep.email]
    assert email.status == "pending"
    assert "Jane Doe" in email.payload["text"] and "vp role" in email.payload["text"]
    confirmation = emails["jane@acme.test"].payload
    assert confirmation["subject"].startswith("Confirmed: your meeting with")
    assert "/meetings/" in confirmation["text"] and "/invite/" in confirmation["text"]
    # Booking again for the same conversation, or the same slot for someone else.
    assert isinstance(service.book("c1", offer.rep.email, offer.slots[2]), AlreadyBooked)
    make_lead(store, "c2")
    taken = service.book("c2", offer.rep.email, offer.slots[1])
    assert isinstance(taken, SlotTaken) and offer.slots[1] not in taken.alternatives
    assert offer.slots[1] not in service.offer("c2").slots or service.offer("c2").rep != offer.rep



def test_choosing_again_after_the_turn_was_not_saved_confirms_the_same_meeting(
    service: BookingService, store: LeadStore, database_url: str
) -> None:
    """The booking committed, then the turn's save to the tracker store failed: the visitor got
    the apology and chooses again (the same time, or another offered one) on the conversation
    as stored, which knows of no meeting. They get the meeting they have, to be confirmed as
    the first time (same invite link); no second meeting, email, webhook or CRM event."""
    make_lead(store, "c1")
    offer = service.offer("c1", "Europe/Berlin")
    first = service.book("c1", offer.rep.email, offer.slots[0], "Europe/Berlin")
    assert isinstance(first, Booked)
    outbox = sorted(item.id for item in rows(database_url, OutboxItem, conversation_id="c1"))
    for start in (offer.slots[0], offer.slots[1]):
        again = service.book("c1", offer.rep.email, start, "Europe/Berlin")
        assert isinstance(again, AlreadyBooked)
        assert again.meeting == first.meeting
        assert service.invite_url(again) == service.invite_url(first)
    assert len(rows(database_url, Meeting, conversation_id="c1")) == 1
    assert sorted(item.id for item in rows(database_url, OutboxItem, conversation_id="c1")) == (
        outbox
    )
    assert store.get("c1")["meeting_start"] == offer.slots[0].isoformat().replace("+00:00", "Z")
    # The time is this conversation's own: not free for anyone else, offered to nobody.
    assert offer.slots[0] not in service.offer("c1").slots

def test_invalid_slots_and_no_consent(service: BookingService, store: LeadStore, clock) -> None:
    make_lead(store, "c1")
    rep = service.offer("c1").rep
    slot = service.offer("c1").slots[0]
    assert isinstance(service.book("c1", rep.email, slot + timedelta(minutes=10)), SlotTaken)
    clock.advance(days=30)  # the offer went stale: now in the past
    assert isinstance(service.book("c1", rep.email, slot), SlotTaken)
    with pytest.raises(BookingError):
        service.book("c1", "nobody@example.com", slot)
    clock.advance(days=-30)
    with pytest.raises(BookingError):  # no lead: nothing is written
        service.book("ghost", rep.email, slot)


def test_the_invite_and_the_feed(service: BookingService, store: LeadStore) -> None:
    make_lead(store, "c1", name="Zoë Ünicode-Example, Jr.; the long-named")
    offer = service.offer("c1")
    booked = service.book("c1", offer.rep.email, offer.slots[0], "Europe/Berlin")
    ics = service.invite_ics(booked.ics_token)
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert "\n" not in ics.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))
    lines = unfold(ics)
    assert "METHOD:REQUEST" in lines
    assert f"DTSTART:{offer.slots[0]:%Y%m%dT%H%M%SZ}" in lines
    assert any(line.startswith("ORGANIZER;CN=") and offer.rep.email in line for line in lines)
    assert any(line.startswith("ATTENDEE;CN=") and "jane@acme.test" in line for line in lines)
    assert any("Zoë Ünicode-Example\\, Jr.\\; the long-named" in line for line in lines)
    assert service.invite_ics("wrong-token") is None and service.invite_ics("") is None
    feed = unfold(service.rep_feed_ics(offer.rep.email))
    assert "METHOD:PUBLISH" in feed and feed.count("BEGIN:VEVENT") == 1
    assert unfold(service.rep_feed_ics("grace@example.com")).count("BEGIN:VEVENT") == 0


@pytest.mark.parametrize("threads", [2, 4])
def test_double_booking_race(
    database_url: str, clock: Clock, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N threads, each with its own engine and connection, book one slot at the same moment.

    The service's own "is it still free?" read is switched off, so only the database's UNIQUE
    (rep_email, start_utc) stands between the threads and a double booking.
    """
    monkeypatch.setattr(BookingService, "taken", lambda self, rep_email: [])
    store = LeadStore(make_engine(database_url))
    rounds = 8
    services = [
        BookingService(make_engine(database_url), REPS, clock, URLS) for _ in range(threads)
    ]
    slots = []
    for round_ in range(rounds):
        for t in range(threads):
            make_lead(store, f"r{round_}-t{t}")
    rep = REPS.rep("ada@example.com")
    from bot.booking.availability import next_slots

    slots = next_slots(rep, clock(), count=rounds)
    winners_per_round, started = [], time.perf_counter()
    for round_, slot in enumerate(slots):
        barrier = threading.Barrier(threads)
        results: list = [None] * threads

        def attempt(t: int, slot=slot, round_=round_, barrier=barrier, results=results) -> None:
            barrier.wait()
            results[t] = services[t].book(f"r{round_}-t{t}", rep.email, slot)

        workers = [threading.Thread(target=attempt, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
        assert all(r is not None for r in results), results  # no thread crashed
        winners_per_round.append(sum(isinstance(r, Booked) for r in results))
        assert sum(isinstance(r, SlotTaken) for r in results) == threads - 1
    elapsed = time.perf_counter() - started
    assert winners_per_round == [1] * rounds
    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        assert session.execute(select(func.count()).select_from(Meeting)).scalar_one() == rounds
        booked = session.execute(
            select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "email")
        ).scalar_one()
        assert booked == rounds * 2  # only winners notified the rep (and got a confirmation)
    outcomes = [row["outcome"] for row in store.export()]
    assert outcomes.count("meeting_booked") == rounds
    print(
        f"\nRACE {database_url.split(':')[0]} threads={threads}: attempts={rounds * threads} "
        f"winners={sum(winners_per_round)} double_bookings=0 time={elapsed:.3f}s "
        f"({elapsed / rounds * 1000:.1f} ms/round)"
    )
