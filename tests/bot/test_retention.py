"""Retention on a real Rasa SQL tracker store and the lead store, on SQLite and PostgreSQL:
never-consented conversations go after RETENTION_NO_CONSENT_DAYS, leads after RETENTION_DAYS,
and nothing younger is touched."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text, update
from sqlalchemy.engine import make_url

from bot.leads.retention import run_retention
from bot.leads.store import LeadStore
from bot.storage.engine import make_engine
from bot.storage.models import Lead

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def tracker_store(url: str) -> SQLTrackerStore:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SQLTrackerStore(dialect="sqlite", db=parsed.database)
    return SQLTrackerStore(
        dialect="postgresql",
        host=parsed.host,
        port=parsed.port,
        db=parsed.database,
        username=parsed.username,
    )


def save_conversation(store: SQLTrackerStore, sender: str, last_message: datetime) -> None:
    events = [
        UserUttered(
            "hello, I typed my phone number 555-0100 here",
            timestamp=(last_message - timedelta(minutes=5)).timestamp(),
        ),
        SlotSet("consent", False, timestamp=(last_message - timedelta(minutes=4)).timestamp()),
        UserUttered("bye", timestamp=last_message.timestamp()),
    ]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def senders(url: str) -> set:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = {
            row[0] for row in connection.execute(text("SELECT DISTINCT sender_id FROM events"))
        }
    engine.dispose()
    return found


def test_what_is_past_its_time_goes_and_nothing_else(database_url: str) -> None:
    store = tracker_store(database_url)
    save_conversation(store, "declined-long-ago", NOW - timedelta(days=31))
    save_conversation(store, "declined-recently", NOW - timedelta(days=29))
    save_conversation(store, "lead-active", NOW - timedelta(days=200))
    save_conversation(store, "lead-expired", NOW - timedelta(days=800))
    leads = LeadStore(make_engine(database_url))
    for conversation_id in ("lead-active", "lead-expired"):
        leads.start(conversation_id, "v1", at=NOW - timedelta(days=800))
        leads.record_answer(
            conversation_id, "name", "Someone Known", "ok", {"name": "Someone Known"}
        )
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            update(Lead)
            .where(Lead.conversation_id == "lead-expired")
            .values(updated_at=NOW - timedelta(days=731))
        )
        connection.execute(
            update(Lead)
            .where(Lead.conversation_id == "lead-active")
            .values(updated_at=NOW - timedelta(days=200))
        )
    erased_before = leads.erasure_count()

    report = run_retention(leads, database_url, NOW, no_consent_days=30, lead_days=730)

    assert (report.conversations_purged, report.leads_erased) == (1, 1)
    assert report.events_deleted == 6  # three events each
    assert senders(database_url) == {"declined-recently", "lead-active"}
    assert leads.get("lead-expired") is None and leads.get("lead-active") is not None
    assert (
        leads.erasure_count() == erased_before + 1
    )  # an anonymous audit entry, as for "forget me"

    again = run_retention(leads, database_url, NOW, no_consent_days=30, lead_days=730)
    assert (again.conversations_purged, again.leads_erased, again.events_deleted) == (0, 0, 0)
    engine.dispose()


def test_a_fresh_install_has_nothing_to_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'leads.db'}"
    upgrade(url)
    report = run_retention(
        LeadStore(make_engine(url)),
        f"sqlite:///{tmp_path / 'no-tracker-yet.db'}",
        NOW,
        no_consent_days=30,
        lead_days=730,
    )
    assert (report.conversations_purged, report.leads_erased) == (0, 0)
    assert not (tmp_path / "no-tracker-yet.db").exists()  # not created by reading


def test_the_worker_applies_retention_once_a_day(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.config.settings import Settings
    from bot.outbox.worker import build_worker
    from bot.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'leads.db'}"
    upgrade(url)
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    settings = Settings.from_env(
        {
            "DATABASE_URL": url,
            "TRACKER_STORE_URL": tracker_url,
            "OUTBOX_MAIL_DIR": str(tmp_path / "mail"),
            "SECRET_KEY_FILE": str(tmp_path / "key"),
        }
    )
    now = [NOW]
    worker = build_worker(settings, clock=lambda: now[0])
    store = tracker_store(tracker_url)
    save_conversation(store, "first", NOW - timedelta(days=40))
    worker.run_once()
    assert senders(tracker_url) == set()

    save_conversation(store, "second", NOW - timedelta(days=40))
    now[0] = NOW + timedelta(hours=1)
    worker.run_once()
    assert senders(tracker_url) == {"second"}  # not due again within the day
    now[0] = NOW + timedelta(hours=25)
    worker.run_once()
    assert senders(tracker_url) == set()
    worker.dispatcher.close()
