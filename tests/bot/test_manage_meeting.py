"""Cancel and reschedule through the visitor's signed link, on SQLite and PostgreSQL: the same
meeting (UID) with SEQUENCE raised, METHOD:CANCEL or an updated REQUEST to the rep and the
visitor, the old time freed, the CRM told; forged, cancelled and past links say so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.booking.ics import unfold
from bot.booking.links import manage_token, meeting_for_token
from bot.booking.reps import load_reps
from bot.booking.service import Booked, BookingService
from bot.config.settings import PROJECT_ROOT
from bot.crm import events as crm_events
from bot.leads.store import LeadStore
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import Meeting, OutboxItem
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead

REPS = load_reps(PROJECT_ROOT / "config" / "reps.yml")
SECRET = b"k" * 32


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    crm_events.enable(engine)
    return engine


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(engine: Engine, clock: Clock) -> BookingService:
    return BookingService(
        engine, REPS, clock, PublicUrls("https://bot.test"), secret=lambda: SECRET
    )


def outbox(engine: Engine, after: int = 0) -> list:
    with unit_of_work(make_session_factory(engine)) as session:
        return list(
            session.execute(
                select(OutboxItem).where(OutboxItem.id > after).order_by(OutboxItem.id)
            ).scalars()
        )


def ics_of(item: OutboxItem) -> list:
    return unfold(item.payload["attachments"][0]["content"])


def value(lines: list, name: str) -> str:
    return next(line.split(":", 1)[1] for line in lines if line.startswith(name + ":"))


def book(service: BookingService, engine: Engine, cid: str = "c1") -> tuple:
    make_lead(LeadStore(engine), cid)
    offer = service.offer(cid, "Europe/Berlin")
    booked = service.book(cid, offer.rep.email, offer.slots[0], "Europe/Berlin")
    assert isinstance(booked, Booked)
    url = service.manage_url_for(cid)
    assert url.startswith("https://bot.test/meetings/")
    return offer, url.rsplit("/", 1)[1]


def test_the_token_is_signed_and_opaque() -> None:
    token = manage_token(SECRET, "0123456789abcdef01234567")
    assert meeting_for_token(SECRET, token) == "0123456789abcdef01234567"
    assert meeting_for_token(b"other" * 8, token) is None
    assert meeting_for_token(SECRET, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    for bad in ("", "x", "0123-abc", token + "x", "../../etc"):
        assert meeting_for_token(SECRET, bad) is None


def test_reschedule_moves_the_same_meeting_and_frees_the_old_time(
    service: BookingService, engine: Engine
) -> None:
    offer, token = book(service, engine)
    first = outbox(engine)
    booked_invite = ics_of(next(i for i in first if i.kind == "email"))
    uid = value(booked_invite, "UID")
    assert value(booked_invite, "SEQUENCE") == "0"
    assert any(f"/meetings/{token}" in line for line in booked_invite)  # the link is in it

    shown = service.manage(token)
    assert shown.state == "booked" and shown.meeting.start_utc == offer.slots[0]
    assert offer.slots[0] not in shown.slots and len(shown.slots) >= 3
    new = shown.slots[1]
    moved = service.reschedule(token, new)
    assert moved.state == "moved_now" and moved.meeting.start_utc == new
    items = outbox(engine, first[-1].id)
    emails = {i.payload["to"][0]: i for i in items if i.kind == "email"}
    assert set(emails) == {offer.rep.email, "jane@acme.test"}
    for email in emails.values():
        lines = ics_of(email)
        assert "METHOD:REQUEST" in lines and value(lines, "UID") == uid
        assert value(lines, "SEQUENCE") == "1"
        assert value(lines, "DTSTART") == f"{new:%Y%m%dT%H%M%SZ}"
    assert emails[offer.rep.email].payload["subject"].startswith("Meeting moved: Jane Doe")
    [event] = [i.payload["event"] for i in items if i.kind == "crm"]
    assert event["type"] == "meeting.booked"
    assert event["data"]["meeting"]["sequence"] == 1
    assert event["data"]["meeting"]["previous_start"] == f"{offer.slots[0]:%Y-%m-%dT%H:%M:%SZ}"
    # The old time is free again: another visitor can book it.
    make_lead(LeadStore(engine), "c2")
    again = service.book("c2", offer.rep.email, offer.slots[0])
    assert isinstance(again, Booked)
    # The time the first visitor moved to is theirs: nobody else can move onto it.
    other = service.manage_url_for("c2").rsplit("/", 1)[1]
    assert service.reschedule(other, new).state == "taken"
    assert LeadStore(engine).get("c1")["meeting_start"] == f"{new:%Y-%m-%dT%H:%M:%SZ}"


def test_cancel_sends_method_cancel_with_the_same_uid_and_frees_the_time(
    service: BookingService, engine: Engine
) -> None:
    offer, token = book(service, engine)
    before = outbox(engine)
    uid = value(ics_of(next(i for i in before if i.kind == "email")), "UID")
    assert service.cancel(token).state == "cancelled_now"
    items = outbox(engine, before[-1].id)
    emails = {i.payload["to"][0]: i for i in items if i.kind == "email"}
    rep_lines = ics_of(emails[offer.rep.email])
    assert "METHOD:CANCEL" in rep_lines and "STATUS:CANCELLED" in rep_lines
    assert value(rep_lines, "UID") == uid and value(rep_lines, "SEQUENCE") == "1"
    assert (
        emails[offer.rep.email].payload["attachments"][0]["content_type"].endswith("method=CANCEL")
    )
    assert emails["jane@acme.test"].payload["subject"].startswith("Cancelled: your meeting")
    [event] = [i.payload["event"] for i in items if i.kind == "crm"]
    assert event["type"] == "meeting.cancelled"
    assert event["data"]["meeting"]["status"] == "cancelled"
    lead = LeadStore(engine).get("c1")
    assert lead["outcome"] == "none" and lead["meeting_start"] is None
    # Again: nothing more happens; the time is free for others.
    assert service.cancel(token).state == "cancelled"
    assert service.reschedule(token, offer.slots[1]).state == "cancelled"
    assert outbox(engine, items[-1].id) == []
    assert offer.slots[0] in service.offer("c1").slots
    with unit_of_work(make_session_factory(engine)) as session:
        meeting = session.execute(select(Meeting)).scalar_one()
        assert (meeting.status, meeting.sequence) == ("cancelled", 1)


def test_forged_past_and_odd_requests(
    service: BookingService, engine: Engine, clock: Clock
) -> None:
    offer, token = book(service, engine)
    forged = manage_token(b"not the key" * 3, token.split("-")[0])
    for bad in (forged, "nonsense", ""):
        assert service.manage(bad).state == "unknown"
        assert service.cancel(bad).state == "unknown"
        assert service.reschedule(bad, offer.slots[1]).state == "unknown"
    # A time that is not one of the rep's slots.
    shown = service.manage(token)
    assert service.reschedule(token, shown.slots[0] + timedelta(minutes=7)).state == "taken"
    clock.advance(days=30)
    assert service.manage(token).state == "past"
    assert service.cancel(token).state == "past"
