"""Rasa's SQL tracker store, plus the right to be forgotten.

When a turn ran `action_forget_me`, the conversation's stored events are deleted instead of
saved. This must happen here, at save time: if the action deleted them itself, Rasa would
write the whole in-memory conversation back right after the action returned.
"""

from __future__ import annotations

import logging

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

ERASURE_ACTION = "action_forget_me"


class ErasableSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that erases a conversation's events after `action_forget_me`."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # A failed write must not print the events (message texts, emails) in its error.
        self.engine.hide_parameters = True

    async def save(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        if not any(
            isinstance(event, ActionExecuted) and event.action_name == ERASURE_ACTION
            for event in new_events
        ):
            await super().save(tracker)
            return
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == tracker.sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        # Only a count: the sender id would tie this log line to the person.
        logger.info("Erased a conversation's stored events (%d events).", deleted)
