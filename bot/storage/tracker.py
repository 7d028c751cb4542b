"""Rasa's SQL tracker store, read and pruned from our processes (table `events`).

This is the one place that knows the table's shape. The tables are Rasa's; we only read events
(transcripts for the inbox, analytics) and delete whole conversations (retention, erasure). A
SQLite store that does not exist yet is not created: Rasa creates its own file on first start.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence

from sqlalchemy import bindparam, create_engine, inspect, text
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.engine import sqlite_pragmas

logger = logging.getLogger(__name__)

TRANSCRIPT_MAX_EVENTS = 5_000  # a long conversation is a few hundred; this bounds a page

_CONVERSATION = text(
    "SELECT data FROM events WHERE sender_id = :sender AND type_name IN ('user', 'bot') "
    "ORDER BY timestamp, id LIMIT :limit"
)
_STARTED_BETWEEN = text(
    "SELECT sender_id, data FROM events WHERE type_name IN ('user', 'bot', 'slot') "
    "AND sender_id IN (SELECT sender_id FROM events GROUP BY sender_id "
    "HAVING MIN(timestamp) >= :since AND MIN(timestamp) < :until) "
    "ORDER BY sender_id, timestamp, id"
)


@dataclass(frozen=True)
class TranscriptLine:
    """One message of a conversation as a rep reads it."""

    who: str  # "visitor" | "bot"
    text: str
    at: datetime | None  # UTC


def tracker_engine(url: str) -> Engine | None:
    """An engine on the tracker store, or None while its SQLite file doesn't exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).exists():
            return None
    # Rasa's file; only this connection's secure_delete is ours (nothing in the file changes).
    engine = create_engine(parsed, future=True, pool_pre_ping=True, hide_parameters=True)
    if parsed.get_backend_name() == "sqlite":
        # What we delete (erasure, retention) is overwritten, not left in free pages.
        sa_event.listen(engine, "connect", sqlite_pragmas("secure_delete=ON"))
    return engine


def has_events_table(engine: Engine) -> bool:
    return inspect(engine).has_table("events")


def _event(data: Any) -> Dict[str, Any] | None:
    try:
        event = json.loads(data) if isinstance(data, (str, bytes)) else None
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def transcript(events: Sequence[Mapping[str, Any]]) -> List[TranscriptLine]:
    """The visitor's and the bot's messages in Rasa tracker event dicts, in order."""
    lines = []
    for event in events:
        kind = event.get("event") or event.get("type")
        if kind not in ("user", "bot"):
            continue
        said = event.get("text")
        if not said:
            buttons = (event.get("data") or {}).get("buttons") or []
            said = " | ".join(b.get("title", "") for b in buttons) if buttons else ""
        if not said:
            continue
        stamp = event.get("timestamp")
        at = (
            datetime.fromtimestamp(stamp, timezone.utc) if isinstance(stamp, (int, float)) else None
        )
        lines.append(TranscriptLine("visitor" if kind == "user" else "bot", str(said), at))
    return lines


class TrackerReader:
    """Reads conversations from the tracker store; the engine is made on first use (the
    SQLite file may appear after this process started) and kept until `close()`."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def _connect(self) -> Engine | None:
        with self._lock:
            if self._engine is None:
                self._engine = tracker_engine(self._url)
            return self._engine

    def events(self, sender_id: str) -> List[Dict[str, Any]] | None:
        """The user/bot event dicts in order; [] if none; None if the store can't be read."""
        engine = self._connect()
        if engine is None:
            return []
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    _CONVERSATION, {"sender": sender_id, "limit": TRANSCRIPT_MAX_EVENTS}
                ).all()
        except SQLAlchemyError as error:  # no `events` table yet, or the store is down
            logger.warning("Tracker store not readable (%s).", type(error).__name__)
            return None
        return [event for (data,) in rows if (event := _event(data)) is not None]

    def transcript(self, sender_id: str) -> List[TranscriptLine] | None:
        """One conversation's messages; None if the store can't be read."""
        events = self.events(sender_id)
        return transcript(events) if events is not None else None

    def started_between(
        self, since: datetime, until: datetime
    ) -> Dict[str, List[Dict[str, Any]]] | None:
        """user/bot/slot events of the conversations whose first event is in [since, until),
        by sender id; None if the store can't be read."""
        engine = self._connect()
        if engine is None:
            return {}
        grouped: Dict[str, List[Dict[str, Any]]] = {}
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    _STARTED_BETWEEN, {"since": since.timestamp(), "until": until.timestamp()}
                )
                for sender_id, data in rows:
                    event = _event(data)
                    if event is not None:
                        grouped.setdefault(sender_id, []).append(event)
        except SQLAlchemyError as error:  # no `events` table yet: no conversation so far
            logger.warning("Tracker store not readable (%s).", type(error).__name__)
            return None
        return grouped

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def idle_conversations(engine: Engine, last_event_before: float) -> List[str]:
    """Sender ids whose newest event is older than `last_event_before` (a UNIX time)."""
    query = text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :before")
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(query, {"before": last_event_before})]


def delete_conversations(engine: Engine, sender_ids: Iterable[str]) -> int:
    """Delete every event of these conversations; returns the number of events deleted."""
    ids = list(sender_ids)
    deleted = 0
    query = text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    with engine.begin() as connection:
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            deleted += connection.execute(query, {"ids": ids[start : start + 500]}).rowcount
    return deleted


# Events a transcript is made of: what the visitor said, what the bot (or a rep) said, and
# when a person took the conversation over or gave it back.
TRANSCRIPT_TYPES = ("user", "bot", "pause", "resume")
_TRANSCRIPT_AFTER = text(
    "SELECT data FROM events WHERE sender_id = :sender AND type_name IN :types "
    "AND timestamp > :after ORDER BY timestamp, id LIMIT :limit"
).bindparams(bindparam("types", expanding=True))


def conversation_events(
    engine: Engine, sender_id: str, after: float = 0.0, limit: int = TRANSCRIPT_MAX_EVENTS
) -> List[Dict[str, Any]]:
    """The conversation's transcript events (Rasa's event dicts: messages both ways, and when a
    person took over or gave it back) after the UNIX time `after`, oldest first; [] when the
    store has no events table yet. The live handoff view reads it every two seconds."""
    if not has_events_table(engine):
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            _TRANSCRIPT_AFTER,
            {"sender": sender_id, "types": list(TRANSCRIPT_TYPES), "after": after, "limit": limit},
        ).all()
    return [event for (data,) in rows if (event := _event(data)) is not None]
