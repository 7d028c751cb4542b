"""Where the report's facts come from: Rasa's SQL tracker store and the lead store.

Only the event types the journeys need are read (user, bot, slot), for conversations that
started in the window; the lead store gives each conversation's tier, outcome and booking time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Dict, List

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.analytics.funnel import LeadOutcome
from bot.analytics.journeys import Journey, journey
from bot.storage.engine import make_session_factory
from bot.storage.models import Lead, Meeting
from bot.storage.tracker import TrackerReader


def read_journeys(tracker_store_url: str, since: datetime, until: datetime) -> List[Journey]:
    """The journeys of the conversations whose first event is in [since, until)."""
    reader = TrackerReader(tracker_store_url)
    try:
        grouped = reader.started_between(since, until)
    finally:
        reader.close()
    return [journey(sender_id, events) for sender_id, events in (grouped or {}).items()]


def read_outcomes(engine: Engine) -> Dict[str, LeadOutcome]:
    """Tier, outcome and booking time of every lead, by conversation id."""
    sessions = make_session_factory(engine)
    with sessions() as session:
        booked = {
            conversation_id: created_at
            for conversation_id, created_at in session.execute(
                select(Meeting.conversation_id, Meeting.created_at)
            )
        }
        return {
            conversation_id: LeadOutcome(
                tier=tier,
                outcome=getattr(outcome, "value", outcome),
                booked_at=booked.get(conversation_id),
            )
            for conversation_id, tier, outcome in session.execute(
                select(Lead.conversation_id, Lead.tier, Lead.outcome)
            )
        }
