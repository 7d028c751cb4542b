"""The tracker store failing for one turn, on a real PostgreSQL (the drills' PostgreSQL restart,
aimed at the turn that matters): the visitor corrects an answer ("actually we're 500 people")
just as the conversation can't be read, or can't be saved.

Rasa's `FailSafeTrackerStore` used to hide both: a failed read ran the turn on a new, empty
conversation ("There's nothing to correct yet", no apology, so the visitor moved on and was
booked with the old answer stored: drill (b) of scripts/drills.py, "correct: company size 200");
a failed save answered normally while the conversation forgot the turn. Now the turn gets the
apology and the visitor's retry applies the correction to the lead and the conversation alike.

The same for the turns that commit more than an answer: the booking (the retry is told "booked"
for the meeting it has, with no second meeting or email: bot/booking/service.py
`AlreadyBooked`) and the last answer, which scores the lead (one lead, one booking after).

A PostgreSQL restart between two turns costs no turn: the tracker store's pooled connections
are checked before use (`pool_pre_ping`, rasa_ext/tracker_store.py `engine_options`).
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator

import pytest
import sqlalchemy as sa

from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.enums import DeliveryPurpose
from bot.storage.models import Lead, Meeting, OutboxItem
from tests.e2e import prestart
from tests.e2e.postgres import PrivatePostgres, server_binaries
from tests.e2e.stack import Conversation, Stack, start_stack, stop_stack

pytestmark = pytest.mark.e2e

APOLOGY = "trouble on my side"  # utter_temporarily_unavailable
BOOKED = "You're booked"


@dataclass
class Faults:
    postgres: PrivatePostgres
    stack: Stack | None = None


def _stop(faults: Faults) -> None:
    try:
        if faults.stack is not None:
            stop_stack(faults.stack)
    finally:
        faults.postgres.stop()
        shutil.rmtree(Path(faults.postgres.folder).parent, ignore_errors=True)


@prestart.register("faults", _stop, ahead=2)
def _prepare(tmp_path_factory: pytest.TempPathFactory):
    if server_binaries() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    folder = Path(tempfile.mkdtemp(prefix="leadbot-tracker-faults-"))
    folder.chmod(0o755)  # initdb runs as postgres when we are root

    def start() -> Faults:
        from bot.runtime.production import ensure_database

        faults = Faults(PrivatePostgres(folder / "pg"))
        try:
            faults.postgres.start()
            # The stack with Rasa's tracker store (and the leads) on the private PostgreSQL.
            database_url = faults.postgres.url("leadbot")
            tracker_url = faults.postgres.url("leadbot_tracker")
            ensure_database(database_url)
            ensure_database(tracker_url)
            (folder / "stack").mkdir()
            faults.stack = start_stack(
                folder / "stack", {"DATABASE_URL": database_url, "TRACKER_STORE_URL": tracker_url}
            )
        except BaseException:
            _stop(faults)
            raise
        return faults

    return start


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faults]:
    """A private PostgreSQL and the stack on it, started ahead (tests/e2e/prestart.py)."""
    started = prestart.take("faults", tmp_path_factory)
    try:
        yield started
    finally:
        prestart.stop_later(_stop, started)  # while the next module runs


@pytest.fixture(scope="module")
def postgres(faults: Faults) -> PrivatePostgres:
    return faults.postgres


@pytest.fixture(scope="module")
def pg_stack(faults: Faults) -> Stack:
    """The stack with Rasa's tracker store (and the leads) on the private PostgreSQL."""
    return faults.stack


@pytest.fixture(scope="module")
def admin(postgres: PrivatePostgres) -> Iterator[sa.engine.Engine]:
    engine = sa.create_engine(postgres.url("postgres"), isolation_level="AUTOCOMMIT", future=True)
    yield engine
    engine.dispose()


@contextmanager
def tracker_database_unreachable(admin: sa.engine.Engine) -> Iterator[None]:
    """No connection to the tracker store's database, open ones cut (as in a restart)."""
    with admin.connect() as connection:
        connection.execute(sa.text("ALTER DATABASE leadbot_tracker ALLOW_CONNECTIONS false"))
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = 'leadbot_tracker'"
            )
        )
    try:
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text("ALTER DATABASE leadbot_tracker ALLOW_CONNECTIONS true"))


@contextmanager
def events_refused(postgres: PrivatePostgres, sender: str) -> Iterator[None]:
    """The tracker store can read this conversation but not save its events."""
    engine = sa.create_engine(
        postgres.url("leadbot_tracker"), isolation_level="AUTOCOMMIT", future=True
    )
    with engine.connect() as connection:
        connection.execute(
            sa.text(
                "CREATE FUNCTION refuse_events() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
            )
        )
        connection.execute(
            sa.text(
                "CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW "
                f"WHEN (NEW.sender_id = '{sender}') EXECUTE FUNCTION refuse_events()"
            )
        )
    try:
        yield
    finally:
        with engine.connect() as connection:
            connection.execute(sa.text("DROP TRIGGER refuse_events ON events"))
            connection.execute(sa.text("DROP FUNCTION refuse_events()"))
        engine.dispose()


def up_to_company_size(chat: Conversation) -> None:
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    for text in (
        "Tess Tracker",
        "tess@tracker.example.com",
        "Director of IT",
        "Tracker Corp",
        "about 200 people",
    ):
        chat.reply(text)
    assert chat.lead()["company_size"] == 200


def book(chat: Conversation) -> None:
    chat.reply("50k a year")
    chat.reply("in 3 months")
    assert BOOKED in chat.click(payload_prefix="/choose_meeting"), chat.transcript


def stored_slot(stack: Stack, sender: str, slot: str) -> object:
    """The slot's value in the conversation as the tracker store has it."""
    values = [
        event.get("value")
        for event in stack.tracker_events(sender)
        if event.get("event") == "slot" and event.get("name") == slot
    ]
    return values[-1] if values else None


def test_a_correction_while_the_conversation_cannot_be_read(
    pg_stack: Stack, admin: sa.engine.Engine
) -> None:
    chat = pg_stack.conversation()
    up_to_company_size(chat)
    with tracker_database_unreachable(admin):
        reply = chat.reply("actually we're 500 people")
    # Not "There's nothing to correct yet" from an empty conversation: the visitor is asked
    # to say it again, and the retry is applied.
    assert APOLOGY in reply, chat.transcript
    assert "500" in chat.reply("actually we're 500 people"), chat.transcript
    book(chat)
    assert chat.lead()["company_size"] == 500
    assert stored_slot(pg_stack, chat.sender, "company_size") == 500


def test_a_correction_whose_turn_cannot_be_saved(
    pg_stack: Stack, postgres: PrivatePostgres
) -> None:
    chat = pg_stack.conversation()
    up_to_company_size(chat)
    with events_refused(postgres, chat.sender):
        reply = chat.reply("actually we're 500 people")
    # The action server stored 500, but the conversation doesn't remember the turn: telling
    # the visitor it went through would leave lead and conversation disagreeing.
    assert APOLOGY in reply and "500" not in reply, chat.transcript
    assert "500" in chat.reply("actually we're 500 people"), chat.transcript
    book(chat)
    assert chat.lead()["company_size"] == 500
    assert stored_slot(pg_stack, chat.sender, "company_size") == 500


def booking_rows(postgres: PrivatePostgres, sender: str) -> Dict[str, int]:
    """What the leads database holds for this conversation: leads, meetings, booking emails."""
    engine = make_engine(postgres.url("leadbot"))
    counted = {
        "leads": sa.select(sa.func.count()).where(Lead.conversation_id == sender),
        "meetings": sa.select(sa.func.count()).where(Meeting.conversation_id == sender),
        "booking emails": sa.select(sa.func.count()).where(
            OutboxItem.conversation_id == sender, OutboxItem.purpose == DeliveryPurpose.BOOKING
        ),
    }
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return {name: session.execute(query).scalar_one() for name, query in counted.items()}
    finally:
        engine.dispose()


def test_a_booking_whose_turn_cannot_be_saved(pg_stack: Stack, postgres: PrivatePostgres) -> None:
    """The meeting is committed to the leads database, then the turn's save fails: the visitor
    gets the apology, and their retry (the same click, on the conversation as stored, which
    knows of no meeting) is told "booked" for that meeting: not "taken", not other times, not
    a second meeting, no second email."""
    chat = pg_stack.conversation()
    up_to_company_size(chat)
    chat.reply("50k a year")
    chat.reply("in 3 months")
    button = next(b for b in chat.buttons if b["payload"].startswith("/choose_meeting"))
    with events_refused(postgres, chat.sender):
        reply = chat.reply(button["payload"])
    assert APOLOGY in reply and BOOKED not in reply, chat.transcript
    booked = booking_rows(postgres, chat.sender)
    assert booked == {"leads": 1, "meetings": 1, "booking emails": 2}  # the rep's, the visitor's
    lead = chat.lead()
    assert lead["outcome"] == "meeting_booked"
    retry = chat.reply(button["payload"])
    assert BOOKED in retry and button["title"] in retry, chat.transcript
    assert not chat.buttons, chat.transcript  # no other times offered
    assert booking_rows(postgres, chat.sender) == booked
    assert chat.lead()["meeting_start"] == lead["meeting_start"]
    assert stored_slot(pg_stack, chat.sender, "meeting_choice") == lead["meeting_start"].replace(
        "Z", "+00:00"
    )


def test_the_turn_that_completes_the_questions_cannot_be_saved(
    pg_stack: Stack, postgres: PrivatePostgres
) -> None:
    """The last answer is stored and the lead scored, then the turn's save fails: the retry
    (the same answer) goes on to the meeting times, with one lead and one booking."""
    chat = pg_stack.conversation()
    up_to_company_size(chat)
    chat.reply("50k a year")
    with events_refused(postgres, chat.sender):
        reply = chat.reply("in 3 months")
    assert APOLOGY in reply, chat.transcript
    assert chat.lead()["tier"] is not None  # scored before the save failed
    chat.reply("in 3 months")
    assert any(b["payload"].startswith("/choose_meeting") for b in chat.buttons), chat.transcript
    assert BOOKED in chat.click(payload_prefix="/choose_meeting"), chat.transcript
    assert booking_rows(postgres, chat.sender) == {"leads": 1, "meetings": 1, "booking emails": 2}
    assert [row["conversation_id"] for row in pg_stack.export()].count(chat.sender) == 1


def test_a_postgresql_restart_between_two_turns(pg_stack: Stack, postgres: PrivatePostgres) -> None:
    """A restart closes every connection Rasa's tracker store keeps in its pool: without
    `pool_pre_ping` the next turn on each one failed (the apology), one visitor per stale
    connection. Now each connection is checked before a turn uses it. (Runs last here: the
    restart also cuts the connections the other tests' stack holds.)"""
    chats = [pg_stack.conversation() for _ in range(4)]
    with ThreadPoolExecutor(len(chats)) as pool:  # at once: several pooled connections
        first = list(pool.map(lambda chat: chat.reply("I'd like a demo"), chats))
    assert all(APOLOGY not in reply for reply in first), first
    postgres.restart()
    for chat in chats:
        reply = chat.reply("yes")
        assert reply and APOLOGY not in reply, chat.transcript
        assert stored_slot(pg_stack, chat.sender, "consent") is True
