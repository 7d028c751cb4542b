"""Questions the visitor can ask at any time, also in the middle of the form."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from actions.common import guarded, last_turn
from bot.conversation.dialogue import answer_response


class AnswerQuestion(Action):
    """Answers with the response for the question; "why?" depends on what was just asked."""

    def name(self) -> str:
        return "action_answer_question"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT) if tracker.active_loop_name else None
        dispatcher.utter_message(response=answer_response(last_turn(tracker).intent, requested))
        return []
