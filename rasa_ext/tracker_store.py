"""Rasa's SQL tracker store, made cheap per turn, plus the right to be forgotten.

Rasa's `SQLTrackerStore` does, on every turn, on the server's event loop: read every event of
the conversation and replay them into a tracker; count the stored events to find the new
ones; and, with an event broker, read and replay the whole conversation once more to find
what to publish (reports/profile.md measures it). This store:

- keeps the tracker it just saved (a bounded, per-process cache). The next turn checks with one
  indexed query that nothing was written since (another replica, an erasure, a retention
  purge) and reuses it; otherwise it reads the conversation as Rasa does. A cached tracker is
  handed out once: whoever retrieves it owns it until it is saved again, so a turn that fails
  half-way never leaves unsaved events in the cache;
- knows how many events are stored, so a save inserts the new ones without counting (a new
  conversation too: the read that found nothing stored tells it), and publishes those same
  events to the broker without reading the conversation again;
- inserts a turn's events with one statement (PostgreSQL returns their ids with it), not one
  round trip per event;
- runs the SQL in a thread, so a slow database never stalls every other conversation.

Rasa wraps every tracker store in `FailSafeTrackerStore`, which hides a failing database: a read
that fails answers "no such conversation" (the turn then runs on a new, empty tracker: a
correction is "nothing to correct yet", the next answer goes nowhere, the visitor is not told)
and a save that fails goes to a per-process memory store nobody reads (the visitor is told the
turn's replies while the conversation forgets it; the action server's writes stay). Both were
seen in the drills' PostgreSQL restart (scripts/drills.py, drill (b): a visitor told "booked"
whose correction never reached the lead). `install_strict_wrapper()` replaces that wrapper with
`StrictTrackerStore`, which raises instead (`TrackerUnavailable`, `TurnNotSaved`): the turn fails,
the channel (rasa_ext/channels.py) answers it with the apology alone, and the visitor's retry runs
it again on the conversation as it is stored.

When a turn ran `action_forget_me` and the erasure succeeded, the conversation's stored events
are deleted instead of saved. This must happen here, at save time: if the action deleted them
itself, Rasa would write the whole in-memory conversation back right after the action returned.
Success is the marker in the action's reply (`utter_forget_me_done` carries the custom payload
`{"leadbot": "erased"}`, which also tells the widget to clear its stored transcript): an erasure
that failed, or was refused for want of a verified session, keeps the conversation as it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Dict, Iterable, List, Tuple

import sqlalchemy as sa
from rasa.core.constants import POSTGRESQL_POOL_SIZE
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ActionExecuted, BotUttered, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from bot.storage.engine import DATABASE_THREADS, sqlite_pragmas
from rasa_ext import paused

logger = logging.getLogger(__name__)

ERASURE_ACTION = "action_forget_me"
ERASED_MARKER = {"leadbot": "erased"}


def erased_in(events: Iterable[Event]) -> bool:
    """Whether these events hold a successful `action_forget_me` (its reply's marker)."""
    erasing = False
    for event in events:
        if isinstance(event, ActionExecuted):
            erasing = event.action_name == ERASURE_ACTION
        elif erasing and isinstance(event, BotUttered):
            if (event.data or {}).get("custom") == ERASED_MARKER:
                return True
    return False


# Conversations whose tracker a process keeps between turns (least recently used dropped
# first). A 13-turn qualification's tracker is ~0.1 MB; more conversations than this at once
# still work, they are read from the database as before.
CACHED_CONVERSATIONS = 1000
STORED_ATTRIBUTE = "_leadbot_stored"
# Rows per INSERT statement: a turn has ~5-15 events; a tracker saved whole (made by a tool)
# may have hundreds, and SQLite caps a statement's parameters (7 per row here).
ROWS_PER_INSERT = 100


@dataclass
class _Stored:
    """What this process knows is in the database for one conversation."""

    events: int  # events of the tracker that are stored (a prefix of tracker.events)
    last_id: int | None  # the highest stored event id of the conversation


def engine_options(url: sa.engine.URL) -> Dict[str, Any]:
    """`create_engine` keyword arguments for the tracker store: Rasa's own
    (`create_engine_kwargs`: PostgreSQL schema, `SQL_POOL_SIZE`, `SQL_MAX_OVERFLOW`) plus

    - `pool_pre_ping`: a pooled connection is checked (`SELECT 1`) before a turn uses it and
      replaced if the database closed it. Without it, after a PostgreSQL restart every
      connection kept in the pool failed once, each a turn answered with the apology;
    - on PostgreSQL, unless `SQL_POOL_SIZE` says otherwise, a pool of one connection per
      thread that runs the store's SQL (`DATABASE_THREADS`, as bot/storage/engine.py).
      (Rasa applies its options only to the dialect `postgresql`; the launcher passes
      `postgresql+psycopg2`, which got SQLAlchemy's default pool of 5);
    - `hide_parameters`: a failed write must not print the events (message texts, emails).
    """
    options: Dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if url.get_backend_name() != "postgresql":
        return options
    options.update(create_engine_kwargs(url.set(drivername="postgresql")))
    if POSTGRESQL_POOL_SIZE not in os.environ:
        options["pool_size"] = DATABASE_THREADS
    return options


class ErasableSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with a per-process tracker cache and erasure after `action_forget_me`."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # Rasa 3.6 makes its engine inside `__init__` with no way to pass options (and uses it
        # there once, to create the table): the store's engine is made again, from the same
        # URL, with ours (`engine_options`).
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, **engine_options(url))
        self.sessionmaker = sessionmaker(bind=self.engine)
        if self.engine.dialect.name == "sqlite":
            # Erased events are overwritten, not left in the file's free pages.
            sa.event.listen(self.engine, "connect", sqlite_pragmas("secure_delete=ON"))
        self._cache: OrderedDict[str, Tuple[DialogueStateTracker, _Stored]] = OrderedDict()
        # Conversations whose read just found nothing stored: Rasa creates and saves a new
        # tracker for them right after, and that save needn't count the stored events (0).
        self._nothing_stored: OrderedDict[str, None] = OrderedDict()
        self._cache_lock = threading.Lock()

    # -- cache ---------------------------------------------------------------------------
    def _take_cached(self, sender_id: str) -> Tuple[DialogueStateTracker, _Stored] | None:
        with self._cache_lock:
            return self._cache.pop(sender_id, None)

    def _put_cached(self, tracker: DialogueStateTracker, stored: _Stored) -> None:
        with self._cache_lock:
            self._cache[tracker.sender_id] = (tracker, stored)
            self._cache.move_to_end(tracker.sender_id)
            while len(self._cache) > CACHED_CONVERSATIONS:
                self._cache.popitem(last=False)

    def _single_statements(self) -> sa.engine.Engine | None:
        """PostgreSQL: the engine in autocommit mode, for a turn's lone statements (the
        max(id) check, one INSERT). In a session each is BEGIN, the statement, then COMMIT or
        ROLLBACK: three round trips for one, on every turn. A single statement is atomic on
        its own. (SQLite keeps its transactions: a save reads its max id back in one.)"""
        if self.engine.dialect.name != "postgresql":
            return None
        engine = getattr(self, "_autocommit_engine", None)
        if engine is None:
            engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._autocommit_engine = engine
        return engine

    def _last_id(self, sender_id: str) -> int | None:
        query = sa.select(sa.func.max(self.SQLEvent.id)).where(self.SQLEvent.sender_id == sender_id)
        autocommit = self._single_statements()
        if autocommit is not None:
            with autocommit.connect() as connection:
                return connection.execute(query).scalar()
        with self.session_scope() as session:
            return session.execute(query).scalar()

    # -- reading -------------------------------------------------------------------------
    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's latest session: the cached tracker if it is still current."""
        cached = self._take_cached(sender_id)
        with self._cache_lock:
            self._nothing_stored.pop(sender_id, None)
        if cached is not None:
            tracker, stored = cached
            if len(tracker.events) == stored.events and stored.last_id == await asyncio.to_thread(
                self._last_id, sender_id
            ):
                return tracker
        tracker, stored = await asyncio.to_thread(self._read, sender_id)
        if tracker is not None:
            setattr(tracker, STORED_ATTRIBUTE, stored)
        elif stored.events == 0:
            with self._cache_lock:
                self._nothing_stored[sender_id] = None
                while len(self._nothing_stored) > CACHED_CONVERSATIONS:
                    self._nothing_stored.popitem(last=False)
        return tracker

    def _read(self, sender_id: str) -> Tuple[DialogueStateTracker | None, _Stored]:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        # The latest session's events are the conversation's latest: their highest id is it.
        stored = _Stored(events=len(events), last_id=max((row.id for row in rows), default=None))
        if not self.domain or not events:
            return None, stored
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots), stored

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await asyncio.to_thread(self._read_all_sessions, conversation_id)

    def _read_all_sessions(self, conversation_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(
                session, conversation_id, fetch_events_from_all_sessions=True
            ).all()
            events = [json.loads(row.data) for row in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(conversation_id, events, self.domain.slots)

    # -- writing -------------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        # Taken over by a person (rasa_ext/paused.py): the channel must not apologise for
        # the silence of this turn.
        paused.remember(tracker.sender_id, tracker.is_paused())
        # A tracker this store read or saved knows which prefix of its events is stored; one
        # made elsewhere (a tool, a copy without the mark) is counted as Rasa does.
        stored: _Stored | None = getattr(tracker, STORED_ATTRIBUTE, None)
        with self._cache_lock:
            nothing_stored = tracker.sender_id in self._nothing_stored
            self._nothing_stored.pop(tracker.sender_id, None)
        if stored is None and nothing_stored:
            # Read a moment ago (this turn's retrieve) and nothing was there: a new
            # conversation, as Rasa's create_tracker saves it. Written since by someone else
            # is the same race a count would have had, a moment later.
            stored = _Stored(events=0, last_id=None)
        if stored is None:  # counted in the database
            new_events, stored_count = await asyncio.to_thread(self._new_events, tracker, None)
        else:  # known: no SQL, so no hop to a thread (each costs a context switch under load)
            new_events, stored_count = self._new_events(tracker, stored)
        if erased_in(new_events):
            await asyncio.to_thread(self._erase, tracker.sender_id)
            return
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        last_id = None
        if new_events:
            last_id = await asyncio.to_thread(self._insert, tracker.sender_id, new_events)
        if last_id is None and stored is not None:
            last_id = stored.last_id
        stored = _Stored(events=stored_count + len(new_events), last_id=last_id)
        setattr(tracker, STORED_ATTRIBUTE, stored)
        self._put_cached(tracker, stored)

    def _new_events(
        self, tracker: DialogueStateTracker, stored: _Stored | None
    ) -> Tuple[List[Event], int]:
        if stored is None:
            with self.session_scope() as session:
                count = self._event_query(
                    session, tracker.sender_id, fetch_events_from_all_sessions=False
                ).count()
        else:
            count = stored.events
        events = list(tracker.events)
        return events[count:], count

    def _insert(self, sender_id: str, events: List[Event]) -> int | None:
        """Insert the events (the same columns as Rasa's save) in one transaction and return
        the conversation's highest event id."""
        if not events:
            return None
        rows: List[Dict[str, Any]] = []
        for event in events:
            data: Dict[str, Any] = event.as_dict()
            rows.append(
                {
                    "sender_id": sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {})
                    .get("intent", {})
                    .get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
            )
        table = self.SQLEvent.__table__
        returning = self.engine.dialect.name == "postgresql"
        autocommit = self._single_statements()
        if autocommit is not None and len(rows) <= ROWS_PER_INSERT:  # one statement: atomic
            with autocommit.connect() as connection:
                statement = sa.insert(table).values(rows).returning(table.c.id)
                return max(connection.execute(statement).scalars().all())
        ids: List[int] = []
        with self.session_scope() as session:
            for start in range(0, len(rows), ROWS_PER_INSERT):
                statement = sa.insert(table).values(rows[start : start + ROWS_PER_INSERT])
                if returning:
                    ids += session.execute(statement.returning(table.c.id)).scalars().all()
                else:
                    session.execute(statement)
            if not returning:
                # SQLite writes one transaction at a time: the highest id is this one's.
                ids.append(
                    session.execute(
                        sa.select(sa.func.max(table.c.id)).where(table.c.sender_id == sender_id)
                    ).scalar()
                )
            session.commit()
        return max(ids)

    def _erase(self, sender_id: str) -> None:
        with self._cache_lock:
            self._cache.pop(sender_id, None)
            self._nothing_stored.pop(sender_id, None)
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        # Only a count: the sender id would tie this log line to the person.
        logger.info("Erased a conversation's stored events (%d events).", deleted)


class TrackerUnavailable(RasaException):
    """The tracker store could not read or save a conversation: the turn must fail, visibly."""


class TurnNotSaved(TrackerUnavailable):
    """A turn ran but its events could not be saved: what it said must not stand."""


class StrictTrackerStore(FailSafeTrackerStore):
    """Rasa's `FailSafeTrackerStore` without its fallbacks: a read or save that fails raises.

    Only the error's type is logged (the message of a database error can quote the row).
    """

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._read(self._tracker_store.retrieve(sender_id))

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._read(self._tracker_store.retrieve_full_tracker(sender_id))

    @staticmethod
    async def _read(
        reading: Awaitable[DialogueStateTracker | None],
    ) -> DialogueStateTracker | None:
        try:
            return await reading
        except Exception as error:
            logger.error("The tracker store failed to read: %s", type(error).__name__)
            raise TrackerUnavailable("the conversation could not be read") from error

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self._tracker_store.save(tracker)
        except Exception as error:
            logger.error("The tracker store failed to save a turn: %s", type(error).__name__)
            raise TurnNotSaved("the turn could not be saved") from error


def install_strict_wrapper() -> None:
    """Make Rasa's agent wrap its tracker store in `StrictTrackerStore` (idempotent); call
    before the server loads its agent."""
    import rasa.core.agent

    rasa.core.agent.FailSafeTrackerStore = StrictTrackerStore  # type: ignore[misc]


def not_saved(error: BaseException | None) -> bool:
    """Whether `error`, or one it happened during, is a turn that could not be saved."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, TurnNotSaved):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False
