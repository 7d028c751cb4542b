"""The meeting step of `lead_form` for sales-qualified leads: offer a rep's free times as
buttons, understand the choice (clicked or typed), book it atomically, or take a call-back
request. Decisions are in bot/booking/ (routing, slots, booking) and bot/answers/ (the typed
choice)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    Services,
    blocking,
    error_from_this_turn,
    guarded,
    reask_events,
    services,
    visitor_timezone,
)
from bot.answers.meeting_choice import parse_slot_choice, wants_other_times
from bot.booking.availability import format_slot
from bot.booking.service import AlreadyBooked, Booked
from bot.conversation.dialogue import Turn, decode_error

CALLBACK = "callback"


def _slots(values: Any) -> List[datetime]:
    return [datetime.fromisoformat(value) for value in values or [] if isinstance(value, str)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


async def understand_choice(
    turn: Turn, tracker: Tracker, slots: Dict[str, Any], svc: Services
) -> List[EventType]:
    """Events for the visitor's answer to the meeting offer (called by validate_lead_form)."""
    offered = _slots(slots.get("offered_slots"))
    zone = visitor_timezone(tracker)
    if turn.text.startswith("/request_callback"):
        return [SlotSet("meeting_choice", CALLBACK)]
    if turn.text.startswith("/other_times") or wants_other_times(turn.text):
        return _reask("other_times", slots, offer_after=_iso(offered[-1]) if offered else None)
    chosen = None
    if turn.entities.get("meeting_start"):
        chosen = parse_slot_choice(turn.entities["meeting_start"], offered, zone, _now())
    if chosen is None and not turn.text.startswith("/"):
        chosen = parse_slot_choice(turn.text, offered, zone, _now())
    if chosen is None or not slots.get("meeting_rep"):
        return _reask("unclear", slots)
    result = await blocking(
        svc.outcomes.book, tracker.sender_id, slots["meeting_rep"], chosen, zone
    )
    if isinstance(result, Booked):
        return [
            SlotSet("meeting_choice", _iso(result.meeting.start_utc)),
            SlotSet("meeting_invite_url", svc.outcomes.invite_url(result)),
        ]
    if isinstance(result, AlreadyBooked):
        return [SlotSet("meeting_choice", _iso(result.meeting.start_utc))]
    return _reask("taken", slots)  # someone else got it first: fresh times are offered


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _reask(error: str, slots: Dict[str, Any], offer_after: str | None = None) -> List[EventType]:
    return [*reask_events("meeting_choice", error, slots), SlotSet("offer_after", offer_after)]


class AskForMeeting(Action):
    """Offers the routed rep's next free times as buttons, in the visitor's time zone."""

    def name(self) -> str:
        return "action_ask_meeting_choice"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
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


def confirmation(tracker: Tracker, svc: Services, manage_url: str | None = None) -> Dict[str, Any]:
    """Variables for utter_meeting_booked (`manage_url`: the visitor's cancel/reschedule link)."""
    start = datetime.fromisoformat(tracker.get_slot("meeting_choice"))
    rep = svc.outcomes.booking.reps.rep(tracker.get_slot("meeting_rep") or "")
    return {
        "time": format_slot(start, visitor_timezone(tracker), svc.settings.locale),
        "rep_name": rep.name if rep else "our team",
        "invite_url": tracker.get_slot("meeting_invite_url") or "",
        "manage_url": manage_url or "",
    }
