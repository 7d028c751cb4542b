"""Questions the visitor can ask at any time, also in the middle of the form."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.forms import REQUESTED_SLOT

from actions.common import BotAction, Dispatcher, Domain, Events, last_turn
from bot.conversation.dialogue import answer_response


class AnswerQuestion(BotAction):
    """Answers with the response for the question; "why?" depends on what was just asked."""

    action = "action_answer_question"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        requested = tracker.get_slot(REQUESTED_SLOT) if tracker.active_loop_name else None
        dispatcher.utter_message(response=answer_response(last_turn(tracker).intent, requested))
        return []
