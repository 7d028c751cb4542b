"""The tracker store Rasa uses (rasa_ext/tracker_store.py), on SQLite and PostgreSQL: the tracker
it keeps between turns is never stale (another replica, an erasure, a purge, a failed turn),
saves store every event exactly once, and the right to be forgotten still erases."""

from __future__ import annotations

import asyncio
import uuid
from typing import List

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from bot.storage.engine import DATABASE_THREADS, make_engine
from rasa_ext.tracker_store import (
    ERASED_MARKER,
    ERASURE_ACTION,
    ErasableSQLTrackerStore,
    engine_options,
)

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet]
slots:
  name:
    type: any
    mappings: [{type: custom}]
actions: [action_forget_me]
"""
)


def store_for(url: str) -> ErasableSQLTrackerStore:
    """A replica's tracker store (each replica has its own cache)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return ErasableSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=parsed.database)
    return ErasableSQLTrackerStore(
        domain=DOMAIN,
        dialect="postgresql",
        host=parsed.host,
        port=parsed.port,
        db=parsed.database,
        username=parsed.username,
    )


def stored_texts(url: str, sender: str) -> List[str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type_name FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).all()
    engine.dispose()
    return [row[0] for row in rows]


def turn(store: ErasableSQLTrackerStore, sender: str, message: str) -> DialogueStateTracker:
    async def run() -> DialogueStateTracker:
        tracker = await store.get_or_create_tracker(sender)
        tracker.update(UserUttered(message))
        tracker.update(SlotSet("name", message))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        return tracker

    return asyncio.run(run())


def messages(tracker: DialogueStateTracker) -> List[str]:
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


def test_turns_on_two_replicas_see_each_other(database_url: str) -> None:
    one, two = store_for(database_url), store_for(database_url)
    sender = f"t-{uuid.uuid4().hex}"
    turn(one, sender, "hello")
    turn(two, sender, "I'm Ann")  # the next message went to the other replica
    tracker = turn(one, sender, "bye")  # and back: replica one's kept tracker is stale
    assert messages(tracker) == ["hello", "I'm Ann", "bye"]
    assert tracker.get_slot("name") == "bye"
    fresh = asyncio.run(store_for(database_url).retrieve(sender))
    assert messages(fresh) == ["hello", "I'm Ann", "bye"]
    # every event stored once: listen, 3 × (user, slot, listen)
    assert stored_texts(database_url, sender) == ["action"] + ["user", "slot", "action"] * 3


def test_a_turn_that_fails_before_saving_leaves_nothing_behind(database_url: str) -> None:
    store = store_for(database_url)
    sender = f"t-{uuid.uuid4().hex}"
    turn(store, sender, "hello")

    async def failed_turn() -> None:
        tracker = await store.retrieve(sender)
        tracker.update(UserUttered("this turn crashed"))  # and is never saved

    asyncio.run(failed_turn())
    tracker = turn(store, sender, "again")
    assert messages(tracker) == ["hello", "again"]
    assert messages(asyncio.run(store_for(database_url).retrieve(sender))) == ["hello", "again"]


def test_events_deleted_elsewhere_are_not_served_from_memory(database_url: str) -> None:
    store = store_for(database_url)
    sender = f"t-{uuid.uuid4().hex}"
    turn(store, sender, "hello")
    engine = make_engine(database_url)  # a retention purge, from another process
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
    engine.dispose()
    assert asyncio.run(store.retrieve(sender)) is None


def test_forget_me_erases_the_conversation(database_url: str) -> None:
    store = store_for(database_url)
    sender = f"t-{uuid.uuid4().hex}"
    turn(store, sender, "my name is Ann")

    async def forget() -> None:
        tracker = await store.retrieve(sender)
        tracker.update(UserUttered("forget me"))
        tracker.update(ActionExecuted(ERASURE_ACTION))
        tracker.update(BotUttered("Done", {"custom": ERASED_MARKER}))  # the erasure worked
        await store.save(tracker)

    asyncio.run(forget())
    assert stored_texts(database_url, sender) == []
    assert asyncio.run(store.retrieve(sender)) is None


def test_a_turn_costs_few_statements(database_url: str) -> None:
    """The per-turn cost in reports/profile.md: a new conversation is read once and not
    counted; each save is one INSERT for all its events; a later turn checks one max(id)."""
    store = store_for(database_url)
    statements: List[str] = []
    event.listen(
        store.engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement.split()[0].upper()),
    )
    sender = f"t-{uuid.uuid4().hex}"
    turn(store, sender, "hello")  # read, then two saves: the new tracker, then the turn
    first = [s for s in statements if s in ("SELECT", "INSERT")]
    statements.clear()
    turn(store, sender, "again")  # the kept tracker: one check, one save
    second = [s for s in statements if s in ("SELECT", "INSERT")]
    # SQLite has no RETURNING here: each save reads its highest id back in its transaction.
    per_save = (
        ["INSERT"]
        if make_url(database_url).get_backend_name() != "sqlite"
        else [
            "INSERT",
            "SELECT",
        ]
    )
    assert first == ["SELECT", *per_save, *per_save]
    assert second == ["SELECT", *per_save]
    assert stored_texts(database_url, sender) == ["action"] + ["user", "slot", "action"] * 2


def test_postgresql_turn_statements_need_no_transaction(postgres_url: str) -> None:
    """On PostgreSQL a later turn's check and save are single statements in autocommit: no
    BEGIN before them and no COMMIT/ROLLBACK after (3 round trips each otherwise)."""
    from bot.storage.migrate import upgrade

    upgrade(postgres_url)
    store = store_for(postgres_url)
    open_after: List[bool] = []
    event.listen(
        store.engine,
        "after_cursor_execute",
        lambda conn, cursor, *_: open_after.append(
            cursor.connection.get_transaction_status() != 0  # psycopg2: 0 = idle, no transaction
        ),
    )
    sender = f"t-{uuid.uuid4().hex}"
    turn(store, sender, "hello")
    open_after.clear()
    turn(store, sender, "again")
    assert open_after == [False, False]  # the max(id) check, the INSERT
    assert stored_texts(postgres_url, sender) == ["action"] + ["user", "slot", "action"] * 2


def test_connections_closed_by_the_database_are_replaced_not_failed(postgres_url: str) -> None:
    """After a PostgreSQL restart every connection the pool kept is dead: each was one failed
    turn (the apology) until `pool_pre_ping` checks a connection before a turn uses it."""
    from bot.storage.migrate import upgrade
    from tests.conftest import POSTGRES_ADMIN_URL

    upgrade(postgres_url)
    store = store_for(postgres_url)
    assert store.engine.pool.size() == DATABASE_THREADS
    sender = f"t-{uuid.uuid4().hex}"
    turn(store, sender, "hello")
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:  # what a restart does to the pooled connections
        cut = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name"
            ),
            {"name": make_url(postgres_url).database},
        ).scalar()
    admin.dispose()
    assert cut >= 1
    turn(store, sender, "again")  # the stale connection is replaced, the turn goes through
    assert messages(turn(store, sender, "and again")) == ["hello", "again", "and again"]
    store.engine.dispose()


def test_the_engine_options() -> None:
    postgres = engine_options(make_url("postgresql+psycopg2://u@db.example/rasa"))
    assert postgres["pool_pre_ping"] and postgres["hide_parameters"]
    assert postgres["pool_size"] == DATABASE_THREADS
    sqlite = engine_options(make_url("sqlite:///tracker.db"))
    assert sqlite == {"pool_pre_ping": True, "hide_parameters": True}
