"""The meeting step (`meeting_form`) for sales-qualified leads: offer a rep's free times as
buttons, understand the choice (clicked or typed), book it atomically, or take a call-back
request. Decisions are in bot/booking/ (routing, slots, booking) and bot/answers/ (the typed
choice)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.common import (
    BotAction,
    Dispatcher,
    Domain,
    Events,
    Services,
    blocking,
    error_from_this_turn,
    phrase,
    reask_values,
    services,
    visitor_timezone,
)
from bot.booking.availability import format_slot
from bot.booking.service import AlreadyBooked, Booked
from bot.conversation.dialogue import decode_error
from bot.conversation.turn import CALLBACK


def offered_slots(values: Any) -> List[datetime]:
    """The times offered (slot `offered_slots`, ISO 8601 strings) as datetimes."""
    return [datetime.fromisoformat(value) for value in values or [] if isinstance(value, str)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


async def book_choice(choice: Any, tracker: Tracker, svc: Services) -> Dict[str, Any]:
    """Slot values for the visitor's understood meeting choice (bot.conversation.turn): a call
    back, or a time booked atomically — or fresh times when someone else just took it."""
    if choice == CALLBACK:
        return {"meeting_choice": CALLBACK}
    rep = tracker.get_slot("meeting_rep")
    if not rep:
        return reask_values("meeting_choice", "unclear", tracker.slots)
    zone = visitor_timezone(tracker)
    result = await blocking(svc.outcomes.book, tracker.sender_id, rep, choice, zone)
    if isinstance(result, (Booked, AlreadyBooked)):
        # AlreadyBooked: this conversation's meeting, booked by a turn whose save failed (the
        # visitor was given the apology and chose again): confirmed as the first time.
        return {
            "meeting_choice": _iso(result.meeting.start_utc),
            "meeting_rep": result.meeting.rep_email,
            "meeting_invite_url": svc.outcomes.invite_url(result),
        }
    return reask_values("meeting_choice", "taken", tracker.slots)  # fresh times are offered


class AskForMeeting(BotAction):
    """Offers the routed rep's next free times as buttons, in the visitor's time zone."""

    action = "action_ask_meeting_choice"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        svc = services()
        zone = visitor_timezone(tracker)
        _, error = decode_error(error_from_this_turn(tracker))
        after = tracker.get_slot("offer_after") if error == "other_times" else None
        offer = await blocking(
            svc.outcomes.offer,
            tracker.sender_id,
            zone,
            datetime.fromisoformat(after) if after else None,
        )
        variables = {"rep_name": offer.rep.name, "timezone": zone or "UTC"}
        if error in ("taken", "unclear"):
            dispatcher.utter_message(
                response="utter_invalid_meeting_choice_taken"
                if error == "taken"
                else "utter_invalid_meeting_choice"
            )
        if not offer.slots:
            dispatcher.utter_message(response="utter_no_free_slots", **variables)
            return [SlotSet("offered_slots", []), SlotSet("meeting_rep", offer.rep.email)]
        buttons = [
            {
                "title": format_slot(slot, zone, svc.settings.locale),
                "payload": "/choose_meeting" + json.dumps({"meeting_start": _iso(slot)}),
            }
            for slot in offer.slots
        ]
        dispatcher.utter_message(
            response="utter_offer_later" if error == "other_times" else "utter_offer_meeting",
            buttons=buttons,
            **variables,
        )
        dispatcher.utter_message(response="utter_offer_alternatives")
        return [
            SlotSet("offered_slots", [_iso(slot) for slot in offer.slots]),
            SlotSet("meeting_rep", offer.rep.email),
        ]


def confirmation(
    tracker: Tracker, svc: Services, domain: Dict[str, Any], manage_url: str | None = None
) -> Dict[str, Any]:
    """Variables for utter_meeting_booked (`manage_url`: the visitor's cancel/reschedule link)."""
    start = datetime.fromisoformat(tracker.get_slot("meeting_choice"))
    rep = svc.outcomes.booking.reps.rep(tracker.get_slot("meeting_rep") or "")
    return {
        "time": format_slot(start, visitor_timezone(tracker), svc.settings.locale),
        "rep_name": rep.name if rep else phrase(domain, "team"),
        "invite_url": tracker.get_slot("meeting_invite_url") or "",
        "manage_url": manage_url or "",
    }
