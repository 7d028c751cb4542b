"""Rasa's SQL tracker store, read and pruned from our processes (table `events`).

The tables are Rasa's; we only read events (analytics, transcripts) and delete whole
conversations (retention, erasure). A SQLite store that does not exist yet is not created:
Rasa creates its own file on first start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List

from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine, make_url


def tracker_engine(url: str) -> Engine | None:
    """An engine on the tracker store, or None while its SQLite file doesn't exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).exists():
            return None
    return create_engine(parsed, future=True, pool_pre_ping=True, hide_parameters=True)


def has_events_table(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table("events")


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
