"""The visitor's rights and wishes: see what's stored, erase it, talk to a person."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import blocking, guarded, services
from bot.conversation.questions import SKIPPED


class ForgetMe(Action):
    """Erases the lead, its answers and consent records now; the Rasa server's tracker store
    (rasa_ext.tracker_store) deletes the conversation's events when this turn is saved."""

    def name(self) -> str:
        return "action_forget_me"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        await blocking(services().leads.erase, tracker.sender_id)
        dispatcher.utter_message(response="utter_forget_me_done")
        return [AllSlotsReset()]


class ShowMyData(Action):
    def name(self) -> str:
        return "action_show_my_data"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        lead = await blocking(services().leads.get, tracker.sender_id)
        if lead is None:
            dispatcher.utter_message(response="utter_my_data_nothing")
        else:
            dispatcher.utter_message(response="utter_my_data", **lead.describe())
        return []


class Handoff(Action):
    """Flags the lead for a person; without consent, tells the visitor how to reach one."""

    def name(self) -> str:
        return "action_handoff"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        svc = services()
        email = tracker.get_slot("email")
        flagged = False
        if tracker.get_slot("consent") is True:
            flagged = await blocking(svc.leads.request_human, tracker.sender_id)
        if flagged and email not in (None, SKIPPED):
            dispatcher.utter_message(response="utter_handoff", email=email)
        else:
            dispatcher.utter_message(
                response="utter_handoff_no_contact", sales_email=svc.settings.sales_contact_email
            )
        return []
