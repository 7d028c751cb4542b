"""The meeting step with real Rasa SDK trackers: the offer, a booking, and a lost race."""

from __future__ import annotations

import json
from typing import Any, Dict

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import AskForMeeting
from actions.common import services
from actions.qualification import ValidateLeadForm
from tests.actions.conftest import make_tracker

ANSWERED = {
    "consent": True,
    "nurture_consent": False,
    "name": "Lin Buyer",
    "email": "lin@buyer.com",
    "role": "VP Sales",
    "company": "Buyer Inc",
    "company_size": 300,
    "budget": 80000,
    "timeline": 1,
    "lead_tier": "sales_qualified",
    "meeting_offered": True,
    "requested_slot": "meeting_choice",
}


def consented_lead(sender: str) -> None:
    store = services().leads
    store.start(sender, "v1", {"timezone": "America/New_York"})
    store.record_answer(sender, "company_size", "300", "ok", {"company_size": 300})


async def offer(sender: str, domain: Dict[str, Any]) -> tuple:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "80k",
        "inform",
        slots=ANSWERED,
        sender_id=sender,
        metadata={"timezone": "America/New_York"},
    )
    events = await AskForMeeting().run(dispatcher, tracker, domain)
    return dispatcher, events


async def test_the_offer_shows_the_routed_reps_times_in_the_visitors_zone(
    domain: Dict[str, Any],
) -> None:
    consented_lead("v-ny")
    dispatcher, events = await offer("v-ny", domain)
    first, alternatives = dispatcher.messages
    assert first["response"] == "utter_offer_meeting"
    assert first["timezone"] == "America/New_York" and first["rep_name"] == "Linus Example"
    assert len(first["buttons"]) == 3
    assert all(b["title"].endswith("(America/New_York)") for b in first["buttons"])
    assert all(b["payload"].startswith("/choose_meeting{") for b in first["buttons"])
    assert alternatives["response"] == "utter_offer_alternatives"
    offered = json.loads(first["buttons"][0]["payload"][len("/choose_meeting") :])
    assert events[0] == SlotSet("offered_slots", events[0]["value"])
    assert events[0]["value"][0] == offered["meeting_start"]
    assert events[1] == SlotSet("meeting_rep", "linus@example.com")  # Americas segment


async def test_two_visitors_one_time_one_booking(domain: Dict[str, Any]) -> None:
    for sender in ("v-a", "v-b"):
        consented_lead(sender)
    _, events = await offer("v-a", domain)
    slots = events[0]["value"]
    rep = events[1]["value"]
    results = []
    for sender in ("v-a", "v-b"):
        payload = "/choose_meeting" + json.dumps({"meeting_start": slots[0]})
        tracker = make_tracker(
            payload,
            "choose_meeting",
            1.0,
            slots={**ANSWERED, "offered_slots": slots, "meeting_rep": rep},
            entities=[{"entity": "meeting_start", "value": slots[0]}],
            sender_id=sender,
            metadata={"timezone": "America/New_York"},
        )
        results.append(await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain))
    won, lost = results
    assert won[0] == SlotSet("meeting_choice", slots[0])
    assert won[-1] == SlotSet("requested_slot", None)  # the form is done: confirm
    assert SlotSet("reask_error", "meeting_choice:taken") in lost
    assert lost[-1] == SlotSet("requested_slot", "meeting_choice")  # fresh times next
    assert services().leads.get("v-a")["outcome"] == "meeting_booked"
    assert services().leads.get("v-b")["outcome"] == "none"


async def test_a_correction_before_booking_scores_again(domain: Dict[str, Any]) -> None:
    store = services().leads
    store.start("v-fix", "v1")
    for slot, value, columns in [
        ("role", "Marketing Manager", {"role": "Marketing Manager", "seniority": "manager"}),
        ("company_size", "300", {"company_size": 300}),
        ("budget", "80k", {"budget_usd": 80000}),
        ("timeline", "next month", {"timeline_months": 1}),
    ]:
        store.record_answer("v-fix", slot, value, "ok", columns)
    tracker = make_tracker(
        "sorry, I meant no budget at all",
        "correct_answer",
        slots=ANSWERED,
        sender_id="v-fix",
    )
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    # manager 8 + 300 people 15 + next month 20 (+ 80k: 25 = 68, sales-qualified) → 43
    assert SlotSet("budget", 0) in events
    tiers = [event["value"] for event in events if event["name"] == "lead_tier"]
    assert tiers and tiers[0] != "sales_qualified"  # no meeting offer any more
    assert SlotSet("meeting_offered", False) in events
    assert events[-1] == SlotSet("requested_slot", None)
    assert store.get("v-fix")["budget_usd"] == 0
