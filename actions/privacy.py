"""The visitor's rights and wishes: see what's stored, erase it, talk to a person."""

from __future__ import annotations

import abc
from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    BotAction,
    Dispatcher,
    Domain,
    Events,
    blocking,
    metadata,
    phrase,
    services,
    visitor_timezone,
    yes_no,
)
from bot.handoff.notify import wait_text
from bot.handoff.service import Outcome
from bot.leads.erasure import ErasureFailed
from bot.leads.sessions import SESSION_METADATA_KEY
from bot.storage.enums import LeadStatus


def session_verified(tracker: Tracker) -> bool:
    """Whether the channel checked this message's visitor session (bot/leads/sessions.py).

    Only the widget channel sets it to True, after checking the signed token; the REST channel
    always sets False, and both overwrite whatever the client sent under this key.
    """
    return metadata(tracker).get(SESSION_METADATA_KEY) is True


def cannot_verify(dispatcher: CollectingDispatcher) -> List[EventType]:
    dispatcher.utter_message(
        response="utter_privacy_unverified",
        privacy_email=services().settings.privacy_contact_email,
    )
    return []


class VerifiedAction(BotAction, abc.ABC):
    """An action on the visitor's own data ("forget me", "what do you know about me?"): it
    runs only when the channel verified the visitor's session, otherwise the visitor is told
    it can't be done here. Abstract, so the SDK registers only its subclasses."""

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        if not session_verified(tracker):
            return cannot_verify(dispatcher)
        return await self.verified(dispatcher, tracker, domain)

    @abc.abstractmethod
    async def verified(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        """`act` for a verified session."""


class ForgetMe(VerifiedAction):
    """Erases everything stored about the conversation, all or nothing (bot/leads/erasure.py).

    Only with a verified visitor session. On success the reply carries the `erased` marker:
    the widget clears its stored transcript, and the Rasa server's tracker store
    (rasa_ext.tracker_store) deletes this turn's events instead of saving them.
    """

    action = "action_forget_me"

    async def verified(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        try:
            await blocking(services().eraser.erase, tracker.sender_id)
        except ErasureFailed:  # nothing was erased (bot/leads/erasure.py): say so, never "done"
            dispatcher.utter_message(
                response="utter_forget_me_failed",
                privacy_email=services().settings.privacy_contact_email,
            )
            return []
        # Its custom payload tells the widget to clear its stored transcript and the tracker
        # store (rasa_ext/tracker_store.py) to delete the conversation's events.
        dispatcher.utter_message(response="utter_forget_me_done")
        return [AllSlotsReset()]


class ShowMyData(VerifiedAction):
    """What is stored about the visitor, worded as they read their answers back."""

    action = "action_show_my_data"

    async def verified(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        svc = services()
        lead = await blocking(svc.leads.get, tracker.sender_id)
        if lead is None:
            dispatcher.utter_message(response="utter_my_data_nothing")
        else:
            dispatcher.utter_message(
                response="utter_my_data",
                **lead.describe(svc.settings.locale),
                nurture_consent=yes_no(domain, bool(lead.nurture_consent)),
            )
        return []


class Handoff(BotAction):
    """Queues the visitor for a person (recorded, and the rep emailed and told on Slack through
    the outbox, before anything is said) and says what happens next: a rep was asked to join
    this chat, or nobody is working right now (then: book a call or leave a message)."""

    action = "action_handoff"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        svc = services()
        consented = tracker.get_slot("consent") is True
        interrupted = (tracker.active_loop or {}).get("name") in ("lead_form", "meeting_form")
        if interrupted and consented:  # "continue" (or the rep handing back) resumes it
            await blocking(svc.leads.set_status, tracker.sender_id, LeadStatus.PAUSED)
        locale = metadata(tracker).get("locale")
        requested = await blocking(
            lambda: svc.handoffs.request_live(
                tracker.sender_id,
                visitor_tz=visitor_timezone(tracker),
                locale=locale if isinstance(locale, str) else None,
                form_interrupted=interrupted,
            )
        )
        response = {
            Outcome.OFF_HOURS: "utter_handoff_off_hours",
            Outcome.ALREADY_OPEN: "utter_handoff_already_asked",
        }.get(requested.outcome, "utter_handoff_requested")
        dispatcher.utter_message(
            response=response,
            rep_name=requested.rep.name if requested.rep else phrase(domain, "sales_team"),
            wait=wait_text(svc.settings.handoff_wait_seconds, svc.settings.locale),
        )
        return []


class LeaveMessage(BotAction):
    """Emails what the visitor wrote (handoff_message_form) to the rep of their handoff."""

    action = "action_leave_message"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        svc = services()
        text = tracker.get_slot("handoff_message") or ""
        sent = await blocking(svc.handoffs.leave_message, tracker.sender_id, text)
        current = await blocking(svc.handoffs.current, tracker.sender_id) if sent else None
        if sent:
            dispatcher.utter_message(
                response="utter_handoff_message_sent",
                rep_name=(current.rep_name if current else None) or phrase(domain, "sales_team"),
            )
        else:
            dispatcher.utter_message(
                response="utter_handoff_message_not_sent",
                sales_email=svc.settings.sales_contact_email,
            )
        return [SlotSet("handoff_message", None)]
