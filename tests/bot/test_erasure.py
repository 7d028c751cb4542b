""" "Forget me" is complete and atomic, on SQLite and PostgreSQL, with Rasa's own tracker store.

A visitor consents, answers, books a meeting; the rep's notification is delivered (once to
offline mail files, and once to a real SMTP server); then the visitor says "forget me". After:
no table of the leads database, no tracker event, no file under the mail folder, and no mail
the rep receives afterwards mentions the person; the rep gets a METHOD:CANCEL for the meeting
time. When any part fails, nothing at all is erased.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Iterator, List

import pytest
from aiosmtpd.controller import Controller
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import inspect, select, text, update

from bot.booking.ics import unfold
from bot.booking.reps import load_reps
from bot.booking.service import Booked, BookingService
from bot.config.settings import PROJECT_ROOT, Settings
from bot.leads.erasure import Eraser, ErasureFailed
from bot.leads.store import LeadStore
from bot.outbox.delivery import Dispatcher
from bot.outbox.queue import Outbox
from bot.storage.engine import make_engine
from bot.storage.enums import DeliveryStatus
from bot.storage.models import OutboxItem
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead
from tests.bot.test_retention import tracker_store

REPS = load_reps(PROJECT_ROOT / "config" / "reps.yml")
EMAIL = "erin.erasable@initech.example"
NAME = "Erin Erasable"
OTHER = "other.visitor@keep.example"


class Sink:
    def __init__(self) -> None:
        self.messages: List[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple]:
    from tests.e2e.stack import free_port

    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


class World:
    """A leads database, a tracker store, a mail folder and the services on them."""

    def __init__(self, database_url: str, tracker_url: str, tmp: Path) -> None:
        self.database_url, self.tracker_url = database_url, tracker_url
        self.mail_dir = tmp / "outbox-mail"
        self.clock = Clock()
        self.engine = make_engine(database_url)
        self.leads = LeadStore(self.engine)
        self.booking = BookingService(
            self.engine, REPS, self.clock, PublicUrls("http://127.0.0.1:8080")
        )
        self.outbox = Outbox(self.engine)
        self.eraser = Eraser(self.engine, self.leads, REPS, self.clock, tracker_url, self.mail_dir)
        self.tracker = tracker_store(tracker_url)

    def dispatcher(self, smtp_port: int | None = None) -> Dispatcher:
        env = {"OUTBOX_MAIL_DIR": str(self.mail_dir)}
        if smtp_port:
            env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_STARTTLS="false")
        return Dispatcher.from_settings(Settings.from_env(env))

    def deliver_all(self, dispatcher: Dispatcher) -> int:
        sent = 0
        for item in self.outbox.claim(self.clock() + timedelta(days=1), limit=100):
            result = dispatcher.deliver(item)
            assert result.ok, result.error
            self.outbox.mark_sent(item.id, self.clock())
            sent += 1
        return sent

    def visitor(self, conversation_id: str, email: str, name: str) -> Booked:
        make_lead(self.leads, conversation_id, nurture=True, email=email, name=name)
        offer = self.booking.offer(conversation_id, "Europe/Berlin")
        booked = self.booking.book(conversation_id, offer.rep.email, offer.slots[0])
        assert isinstance(booked, Booked)
        events = [
            UserUttered(f"I'm {name}, my email is {email}"),
            SlotSet("email", email),
            SlotSet("name", name),
        ]
        asyncio.run(self.tracker.save(DialogueStateTracker.from_events(conversation_id, events)))
        return booked

    def database_text(self, url: str) -> str:
        """Every row of every table, as text: what a search of the database finds."""
        engine = make_engine(url)
        dump = []
        with engine.connect() as connection:
            for table in inspect(engine).get_table_names():
                for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                    dump.append(f"{table}: {row}")
        engine.dispose()
        return "\n".join(dump)

    def files_text(self) -> str:
        if not self.mail_dir.exists():
            return ""
        return "\n".join(
            p.read_bytes().decode("utf-8", "replace")
            for p in self.mail_dir.rglob("*")
            if p.is_file()
        )


def mentions_person(blob: str) -> bool:
    lowered = blob.lower()
    return any(s in lowered for s in (EMAIL, NAME.lower(), "erin", "initech"))


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> World:
    """Leads and tracker store in two SQLite files, or in one PostgreSQL database."""
    if database_url.startswith("sqlite"):
        tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        tracker_url = database_url
    return World(database_url, tracker_url, tmp_path)


def test_forget_me_leaves_nothing_about_the_person_anywhere(world: World, smtp) -> None:
    sink, port = smtp
    booked = world.visitor("erin", EMAIL, NAME)
    world.visitor("keep", OTHER, "Kept Visitor")
    # The rep's notification and the visitor's data are delivered: offline mail files first
    # (no SMTP_HOST), so there are .eml files with the person's data under the mail folder.
    assert world.deliver_all(world.dispatcher()) >= 2
    assert EMAIL in world.files_text() and OTHER in world.files_text()
    # A nurture item still pending for the person (pending payloads carry data too).
    with world.engine.begin() as connection:
        connection.execute(
            update(OutboxItem)
            .where(OutboxItem.conversation_id == "erin", OutboxItem.id == select_first("erin"))
            .values(status=DeliveryStatus.PENDING)
        )
    assert mentions_person(world.database_text(world.database_url))

    result = world.eraser.erase("erin")

    assert result.leads_erased == 1 and result.meetings_cancelled == 1
    assert result.mail_files_erased >= 1 and result.events_erased >= 3
    assert world.leads.get("erin") is None and world.leads.get("keep") is not None
    for url in {world.database_url, world.tracker_url}:
        dump = world.database_text(url)
        assert not mentions_person(dump), [line for line in dump.splitlines() if "rin" in line]
        assert OTHER in dump  # the other visitor is untouched
    assert not mentions_person(world.files_text()) and OTHER in world.files_text()
    assert not list(world.mail_dir.glob(".erasing-*"))
    # The rep's CANCEL goes out over SMTP: the meeting's time and UID, not the person.
    world.deliver_all(world.dispatcher(port))
    assert len(sink.messages) == 1
    raw = sink.messages[0].decode("utf-8", "replace")
    assert not mentions_person(raw)
    mail = message_from_bytes(sink.messages[0], policy=policy.default)
    assert mail["To"] == booked.meeting.rep_email and "cancelled" in mail["Subject"].lower()
    ics = next(
        part.get_content()
        for part in mail.iter_attachments()
        if part.get_filename() == "cancel.ics"
    )
    lines = unfold(ics if isinstance(ics, str) else ics.decode())
    assert "METHOD:CANCEL" in lines and "STATUS:CANCELLED" in lines and "SEQUENCE:1" in lines
    assert f"DTSTART:{booked.meeting.start_utc:%Y%m%dT%H%M%SZ}" in lines
    assert any(line.startswith("UID:meeting-") for line in lines)
    assert not any(line.startswith("ATTENDEE") for line in lines)
    # Erasing again finds nothing (and sends no second CANCEL).
    again = world.eraser.erase("erin")
    assert (again.leads_erased, again.meetings_cancelled, again.events_erased) == (0, 0, 0)


def select_first(conversation_id: str):  # type: ignore[no-untyped-def]
    return (
        select(OutboxItem.id)
        .where(OutboxItem.conversation_id == conversation_id)
        .order_by(OutboxItem.id)
        .limit(1)
        .scalar_subquery()
    )


def snapshot(world: World) -> tuple:
    return (
        world.database_text(world.database_url),
        world.database_text(world.tracker_url),
        sorted(p.name for p in world.mail_dir.rglob("*")),
        world.files_text(),
    )


@pytest.mark.parametrize("failing", ["tracker store", "commit"])
def test_when_a_part_fails_nothing_is_erased(world: World, failing: str) -> None:
    world.visitor("erin", EMAIL, NAME)
    world.deliver_all(world.dispatcher())
    before = snapshot(world)
    assert mentions_person(before[0]) and mentions_person(before[3])
    if failing == "tracker store":  # the tracker store's server is down
        world.eraser.tracker_store_url = "postgresql+psycopg2://postgres@127.0.0.1:9/tracker"
        world.eraser._same_database = lambda: False  # type: ignore[method-assign]
    else:  # everything is done but the commit fails (a full disk, a dropped connection)

        def fail() -> None:
            raise OSError("disk full")

        world.eraser.before_commit = fail
    with pytest.raises(ErasureFailed) as error:
        world.eraser.erase("erin")
    assert error.value.part == failing
    assert snapshot(world) == before  # lead, outbox, meetings, events, mail files: all there
    assert world.leads.get("erin")["email"] == EMAIL


def test_an_item_being_sent_right_now_makes_the_erasure_wait(world: World) -> None:
    world.visitor("erin", EMAIL, NAME)
    claimed = world.outbox.claim(world.clock(), limit=1)  # the worker is sending it now
    assert claimed
    before = snapshot(world)
    with pytest.raises(ErasureFailed):
        world.eraser.erase("erin")
    assert snapshot(world) == before
    world.outbox.mark_sent(claimed[0].id, world.clock())
    assert world.eraser.erase("erin").leads_erased == 1


def test_the_tracker_store_deletes_the_turn_only_when_the_erasure_succeeded(
    tmp_path: Path,
) -> None:
    """rasa_ext.tracker_store: Rasa writes the turn back after the action; after a failed
    (or refused) "forget me" it must keep the conversation, after a successful one drop it."""
    from rasa.shared.core.events import ActionExecuted, BotUttered

    from rasa_ext.tracker_store import ErasableSQLTrackerStore

    store = ErasableSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"))

    def turn(sender: str, reply: BotUttered) -> int:
        events = [
            UserUttered(f"my email is {EMAIL}"),
            UserUttered("forget me"),
            ActionExecuted("action_forget_me"),
            reply,
            ActionExecuted("action_listen"),
        ]
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
        with store.session_scope() as session:
            return session.query(store.SQLEvent).filter_by(sender_id=sender).count()

    failed = BotUttered("Sorry, nothing has been deleted yet")
    refused = BotUttered("I can't check that it's really you", {"custom": None})
    done = BotUttered("Done", {"custom": {"leadbot": "erased"}})
    assert turn("failed", failed) == 5
    assert turn("refused", refused) == 5
    assert turn("done", done) == 0
