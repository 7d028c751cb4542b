"""Where the report's facts come from: Rasa's SQL tracker store and the lead store.

Only the event types the journeys need are read (user, bot, slot), for conversations that
started in the window; the lead store gives each conversation's tier, outcome and booking time.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Dict, List

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics.funnel import LeadOutcome
from bot.analytics.journeys import Journey, journey
from bot.storage.engine import make_session_factory
from bot.storage.models import Lead, Meeting
from bot.storage.tracker import tracker_engine

logger = logging.getLogger(__name__)

_EVENTS = text(
    "SELECT sender_id, data FROM events WHERE type_name IN ('user', 'bot', 'slot') "
    "AND sender_id IN (SELECT sender_id FROM events GROUP BY sender_id "
    "HAVING MIN(timestamp) >= :since AND MIN(timestamp) < :until) "
    "ORDER BY sender_id, timestamp, id"
)


def read_journeys(tracker_store_url: str, since: datetime, until: datetime) -> List[Journey]:
    """The journeys of the conversations whose first event is in [since, until)."""
    engine = tracker_engine(tracker_store_url)
    if engine is None:
        return []
    grouped: Dict[str, List[Dict[str, Any]]] = {}
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                _EVENTS, {"since": since.timestamp(), "until": until.timestamp()}
            )
            for sender_id, data in rows:
                try:
                    event = json.loads(data) if isinstance(data, (str, bytes)) else None
                except ValueError:
                    event = None
                if isinstance(event, dict):
                    grouped.setdefault(sender_id, []).append(event)
    except SQLAlchemyError as error:  # no `events` table yet: no conversation so far
        logger.warning("Tracker store not readable for the report (%s).", type(error).__name__)
        return []
    finally:
        engine.dispose()
    return [journey(sender_id, events) for sender_id, events in grouped.items()]


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
