"""The lead store on SQLite and PostgreSQL: consent first, answers, export contract, erasure."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List

import pytest
from sqlalchemy import func, select

from bot.crm import events as crm_events
from bot.leads.record import EXPORT_FIELDS
from bot.leads.store import LeadStore
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import ConsentRecord, ErasureAudit, LeadAnswer, OutboxItem


@pytest.fixture
def store(database_url: str) -> LeadStore:
    return LeadStore(make_engine(database_url))


def count(database_url: str, model) -> int:  # type: ignore[no-untyped-def]
    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_nothing_is_written_before_consent(store: LeadStore, database_url: str) -> None:
    assert store.record_answer("c1", "name", "Jane", "ok", {"name": "Jane"}) is False
    assert store.record_nurture_consent("c1", True, "v1") is False
    assert store.request_human("c1") is False
    assert store.set_status("c1", "paused") is False
    assert store.export() == []
    assert count(database_url, ConsentRecord) == 0


def test_consent_then_answers_then_export(store: LeadStore, database_url: str) -> None:
    at = datetime(2026, 11, 23, 10, 30, tzinfo=timezone.utc)
    store.start("c1", "2026-11-01", {"page_url": "https://x.test/pricing"}, at=at)
    assert store.record_nurture_consent("c1", True, "2026-11-01")
    store.record_answer("c1", "name", "jane doe", "ok", {"name": "Jane Doe"})
    store.record_answer(
        "c1", "email", "JANE@ACME.COM", "ok", {"email": "JANE@acme.com", "email_free_mail": False}
    )
    store.record_answer("c1", "role", "VP sales", "ok", {"role": "VP Sales", "seniority": "vp"})
    store.record_answer("c1", "company_size", "450", "ok", {"company_size": 450})
    store.record_answer("c1", "company_size", "45 not 450", "ok", {"company_size": 45})
    store.record_answer("c1", "budget", "prefer not to say", "declined", {})
    store.record_answer("c1", "timeline", "asap", "ok", {"timeline_months": 0})
    [row] = store.export()
    assert set(EXPORT_FIELDS) <= set(row)
    assert row["conversation_id"] == "c1"
    assert row["name"] == "Jane Doe" and row["seniority"] == "vp"
    assert row["company_size"] == 45 and row["budget_usd"] is None
    assert row["timeline_months"] == 0
    assert row["consent_at"] == "2026-11-23T10:30:00Z"
    assert row["nurture_consent"] is True and row["outcome"] == "none"
    assert row["source"] == {"page_url": "https://x.test/pricing"}
    assert row["score"] is None and row["meeting_start"] is None
    lead = store.get("c1")
    assert lead.answers["company_size"].corrections == 1
    assert lead.answers["budget"].status == "declined"
    assert count(database_url, ConsentRecord) == 2  # contact + nurture, each with its version


def test_a_declined_answer_clears_the_earlier_value(store: LeadStore) -> None:
    store.start("c1", "v1")
    store.record_answer("c1", "budget", "25k", "ok", {"budget_usd": 25000})
    store.record_answer("c1", "budget", "actually rather not say", "declined", {})
    assert store.get("c1")["budget_usd"] is None


def test_answers_cannot_write_other_columns(store: LeadStore) -> None:
    store.start("c1", "v1")
    with pytest.raises(ValueError):
        store.record_answer("c1", "name", "x", "ok", {"score": 100})
    with pytest.raises(ValueError):
        store.record_answer("c1", "favourite_colour", "x", "ok", {})


def test_erasure_leaves_only_an_anonymous_audit_entry(store: LeadStore, database_url: str) -> None:
    store.start("c1", "v1")
    store.record_nurture_consent("c1", True, "v1")
    store.record_answer("c1", "name", "Jane", "ok", {"name": "Jane"})
    store.start("c2", "v1")
    report = store.erase("c1")
    assert (report.leads_erased, report.consent_records_erased) == (1, 2)
    assert [row["conversation_id"] for row in store.export()] == ["c2"]
    assert count(database_url, LeadAnswer) == 0
    assert count(database_url, ErasureAudit) == 1
    assert store.erasure_count() == 1
    # Erasing a visitor we know nothing about still succeeds (and is audited).
    assert not store.erase("never-seen").anything_erased
    assert store.erasure_count() == 2


def test_pause_resume_and_handoff_flags(store: LeadStore) -> None:
    store.start("c1", "v1")
    assert store.set_status("c1", "paused")
    assert store.get("c1").status == "paused"
    assert store.request_human("c1")
    assert store.get("c1").needs_human is True
    with pytest.raises(ValueError):
        store.set_status("c1", "archived")


def test_consenting_twice_keeps_one_lead(store: LeadStore) -> None:
    store.start("c1", "v1", {"page_url": "https://a.test"})
    store.start("c1", "v2", {"page_url": "https://b.test"})
    [row] = store.export()
    assert row["source"] == {"page_url": "https://a.test"}  # first touch is kept
    assert store.get("c1")["consent_at"] is not None


def test_turns_run_again_after_their_save_failed_change_nothing_twice(
    database_url: str,
) -> None:
    """A turn whose save to the tracker store failed (rasa_ext/tracker_store.py) is run again by
    the visitor's retry: the consent, the last answer and the score once more. One lead, one
    `lead.created`, one `lead.qualified`, and the answer is not counted as a correction; a
    real correction afterwards is news again."""
    engine = make_engine(database_url)
    crm_events.enable(engine)
    store = LeadStore(engine)

    def events() -> List[str]:
        with unit_of_work(make_session_factory(engine)) as session:
            items = session.execute(select(OutboxItem).order_by(OutboxItem.id)).scalars()
            return [item.payload["event"]["type"] for item in items]

    breakdown = [{"rule": "seniority.vp", "points": 25, "reason": "vp role"}]
    for _ in range(2):  # the consent's turn: the first time, and the retry
        store.start("c1", "v1", {"page_url": "https://a.test"})
    for _ in range(2):  # the last answer's turn, which scores the lead
        store.record_answer("c1", "company_size", "about 450", "ok", {"company_size": 450})
        store.record_score("c1", 85, "sales_qualified", breakdown)
    assert events() == ["lead.created", "lead.qualified"]
    assert len(store.export()) == 1
    assert store.get("c1").answers["company_size"].corrections == 0
    store.record_answer("c1", "company_size", "actually 45", "ok", {"company_size": 45})
    store.record_score("c1", 85, "sales_qualified", breakdown)
    assert events() == ["lead.created", "lead.qualified", "lead.qualified"]
    assert store.get("c1").answers["company_size"].corrections == 1
