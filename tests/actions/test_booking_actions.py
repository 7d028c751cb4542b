"""The scoring and meeting steps with real Rasa SDK trackers: the score, the offer, a booking,
and a lost race."""

from __future__ import annotations

import json
from typing import Any, Dict

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import AskForMeeting
from actions.common import services
from actions.qualification import ScoreLead, SubmitLead, ValidateMeetingForm
from bot.storage.enums import LeadStatus
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
            active_loop="meeting_form",
        )
        results.append(await ValidateMeetingForm().run(CollectingDispatcher(), tracker, domain))
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
        active_loop="meeting_form",
    )
    events = await ValidateMeetingForm().run(CollectingDispatcher(), tracker, domain)
    # manager 8 + 300 people 15 + next month 20 (+ 80k: 25 = 68, sales-qualified) → 43
    assert SlotSet("budget", 0) in events
    tiers = [event["value"] for event in events if event["name"] == "lead_tier"]
    assert tiers and tiers[0] != "sales_qualified"  # no meeting offer any more
    assert SlotSet("meeting_offered", False) in events
    assert events[-1] == SlotSet("requested_slot", None)
    assert store.get("v-fix")["budget_usd"] == 0


def answered_lead(sender: str) -> None:
    store = services().leads
    store.start(sender, "v1")
    for slot, value, columns in [
        ("role", "VP Sales", {"role": "VP Sales", "seniority": "vp"}),
        ("company_size", "300", {"company_size": 300}),
        ("budget", "80k", {"budget_usd": 80000}),
        ("timeline", "next month", {"timeline_months": 1}),
    ]:
        store.record_answer(sender, slot, value, "ok", columns)


UNSCORED = {
    key: value
    for key, value in ANSWERED.items()
    if key not in ("lead_tier", "meeting_offered", "requested_slot")
}


async def test_the_score_step_scores_once_and_offers_a_meeting(domain: Dict[str, Any]) -> None:
    answered_lead("v-score")
    tracker = make_tracker(
        "next month", "inform", slots=UNSCORED, sender_id="v-score", active_loop=None
    )
    events = await ScoreLead().run(CollectingDispatcher(), tracker, domain)
    assert events == [
        SlotSet("lead_tier", "sales_qualified"),
        SlotSet("meeting_offered", True),
    ]
    stored = services().leads.get("v-score")
    assert stored["tier"] == "sales_qualified" and stored["score"] is not None
    # Resuming after a pause runs the step again: the score stands, nothing is re-scored.
    again = make_tracker(
        "ok let's continue", "resume_form", slots=ANSWERED, sender_id="v-score", active_loop=None
    )
    assert await ScoreLead().run(CollectingDispatcher(), again, domain) == []


async def test_the_score_step_scores_nothing_without_consent(domain: Dict[str, Any]) -> None:
    tracker = make_tracker(
        "no", "deny", slots={"consent": False}, sender_id="v-no", active_loop=None
    )
    assert await ScoreLead().run(CollectingDispatcher(), tracker, domain) == []


async def test_the_meeting_step_asks_only_a_sales_qualified_lead(domain: Dict[str, Any]) -> None:
    # The form starts right after the score: the last message answered lead_form, not this.
    starting = {**ANSWERED, "requested_slot": None}
    tracker = make_tracker("next month", "inform", slots=starting, active_loop="meeting_form")
    events = await ValidateMeetingForm().run(CollectingDispatcher(), tracker, domain)
    assert events == [SlotSet("requested_slot", "meeting_choice")]
    nurtured = {**starting, "lead_tier": "marketing_qualified", "meeting_offered": False}
    tracker = make_tracker("next month", "inform", slots=nurtured, active_loop="meeting_form")
    events = await ValidateMeetingForm().run(CollectingDispatcher(), tracker, domain)
    assert events == [SlotSet("requested_slot", None)]  # the step ends as it starts


async def booking_turn(
    sender: str, slots: Dict[str, Any], start: str, domain: Dict[str, Any]
) -> tuple:
    """The turn of a click on a time: meeting_form books it, then action_submit_lead confirms
    (each on the conversation as the tracker store had it when the turn began)."""
    payload = "/choose_meeting" + json.dumps({"meeting_start": start})
    common = dict(
        entities=[{"entity": "meeting_start", "value": start}],
        sender_id=sender,
        metadata={"timezone": "America/New_York"},
    )
    tracker = make_tracker(
        payload, "choose_meeting", 1.0, slots=slots, active_loop="meeting_form", **common
    )
    events = await ValidateMeetingForm().run(CollectingDispatcher(), tracker, domain)
    after = {**slots, **{event["name"]: event["value"] for event in events}}
    tracker = make_tracker(payload, "choose_meeting", 1.0, slots=after, active_loop=None, **common)
    dispatcher = CollectingDispatcher()
    assert await SubmitLead().run(dispatcher, tracker, domain) == []
    return events, dispatcher.messages


async def test_choosing_again_after_the_booking_turn_was_not_saved(
    domain: Dict[str, Any],
) -> None:
    """The booking committed but the turn's save to the tracker store failed: the visitor was
    given the apology and clicks again on the conversation as stored (no meeting in it). The
    retry is told the same "booked" as the first time, for the meeting they have."""
    answered_lead("v-retry")
    _, offered = await offer("v-retry", domain)
    slots = {**ANSWERED, "offered_slots": offered[0]["value"], "meeting_rep": offered[1]["value"]}
    first_events, first = await booking_turn("v-retry", slots, slots["offered_slots"][0], domain)
    booked = services().outcomes.booking.taken(slots["meeting_rep"])
    for start in slots["offered_slots"][:2]:  # the same time, or another one offered
        events, again = await booking_turn("v-retry", slots, start, domain)
        assert [m["response"] for m in again] == ["utter_meeting_booked"]
        assert again == first
        assert {e["name"]: e["value"] for e in events} == {
            e["name"]: e["value"] for e in first_events
        }
    assert services().outcomes.booking.taken(slots["meeting_rep"]) == booked  # one meeting
    assert [m["response"] for m in first] == ["utter_meeting_booked"]
    assert first[0]["invite_url"] and first[0]["manage_url"]


async def test_a_complete_lead_without_a_meeting_is_not_confirmed_a_meeting(
    domain: Dict[str, Any],
) -> None:
    answered_lead("v-done")
    services().leads.set_status("v-done", LeadStatus.COMPLETE)
    tracker = make_tracker("next month", "inform", slots=UNSCORED, sender_id="v-done")
    dispatcher = CollectingDispatcher()
    await SubmitLead().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_lead_already_complete"]
