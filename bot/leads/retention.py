"""Retention: nothing is kept longer than the privacy page says.

Two rules, run by the worker once a day and by `python -m bot retention run`:
- a conversation whose visitor never consented is purged from the tracker store
  `no_consent_days` after its last message (what they typed is not kept "just in case");
- a lead not updated for `lead_days` (730, the privacy page's 24 months) is erased like a
  "forget me" (lead, answers, consent records, meetings, outbox items, nurture; an anonymous
  audit entry stays), and its conversation's events with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.leads.store import LeadStore
from bot.storage.tracker import (
    delete_conversations,
    has_events_table,
    idle_conversations,
    tracker_engine,
)


@dataclass(frozen=True)
class RetentionReport:
    conversations_purged: int  # never-consented conversations deleted from the tracker store
    leads_erased: int
    events_deleted: int

    def render(self) -> str:
        return (
            f"retention: {self.leads_erased} leads erased, {self.conversations_purged} "
            f"conversations without consent purged ({self.events_deleted} tracker events)"
        )


def run_retention(
    leads: LeadStore,
    tracker_store_url: str,
    now: datetime,
    *,
    no_consent_days: int,
    lead_days: int,
) -> RetentionReport:
    expired = leads.inactive_since(now - timedelta(days=lead_days))
    for conversation_id in expired:
        leads.erase(conversation_id)
    engine = tracker_engine(tracker_store_url)
    if engine is None:
        return RetentionReport(0, len(expired), 0)
    try:
        if not has_events_table(engine):
            return RetentionReport(0, len(expired), 0)
        idle = idle_conversations(engine, (now - timedelta(days=no_consent_days)).timestamp())
        consented = leads.with_leads(idle) | set(expired)  # expired: erased just now
        never_consented = [sender for sender in idle if sender not in consented]
        events = delete_conversations(engine, [*never_consented, *expired])
        return RetentionReport(len(never_consented), len(expired), events)
    finally:
        engine.dispose()
