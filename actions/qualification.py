"""The qualification steps: `lead_form` (consent, the seven questions, corrections, pausing),
`action_score_lead`, `meeting_form` for a sales-qualified lead, and submitting.

`ValidateLeadForm` follows the SDK's form contract: `required_slots` comes from
bot/conversation (the question order), each turn is understood once by
`bot.conversation.turn.decide_turn`, and the `extract_<slot>` / `validate_<slot>` methods only
apply that decision (store the answer, say what changed, book the meeting).

The questions are plain responses (`utter_ask_<slot>`) that Rasa's form utters itself, so a
form turn is one call to the action server: a re-ask's lines are said by the validation, and
a re-ask that replaces the question is named in slot `reask_response` (rasa_ext/nlg.py).
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.booking import CALLBACK, book_choice, confirmation, offered_slots
from actions.common import (
    BotAction,
    Dispatcher,
    Domain,
    Events,
    Services,
    available_responses,
    blocking,
    guarded,
    is_resuming,
    last_turn,
    metadata,
    phrase,
    reask_values,
    services,
    visitor_timezone,
)
from bot.conversation.dialogue import (
    REASK_RESPONSE_SLOT,
    decode_error,
    filled_questions,
    meeting_slots,
    reask_responses,
    required_slots,
    split_reask,
    times_asked_in_a_row,
    way_out_response,
)
from bot.conversation.outcomes import Signals
from bot.conversation.questions import (
    DECLINED,
    FORM_SLOTS,
    QUESTION_LABELS,
    QUESTIONS,
    SKIPPED,
    Interpretation,
    display_value,
    stored_values,
)
from bot.conversation.turn import MEETING, Decision, Kind, TurnFacts, decide_turn
from bot.leads.privacy import source_from_metadata
from bot.nurture.service import EnrollResult
from bot.storage.enums import LeadStatus

REASK_SLOTS = ("reask_error", "reask_count", "email_suggestion")
LEAD_FORM = "lead_form"
# The decision for the turn being validated (one per request: the SDK shares action objects).
_DECISION: ContextVar[Decision] = ContextVar("leadbot_turn_decision")
Slots = Dict[str, Any]


def _signals(tracker: Tracker) -> Signals:
    """Intent the visitor showed in this conversation, for scoring."""
    intents = {
        (event.get("parse_data") or {}).get("intent", {}).get("name")
        for event in tracker.events
        if event.get("event") == "user"
    }
    return Signals(
        asked_for_demo="request_demo" in intents, asked_for_pricing="ask_pricing" in intents
    )


def turn_facts(tracker: Tracker, svc: Services, form: str | None = None) -> TurnFacts:
    """Everything `decide_turn` needs, read from the tracker once (`form`: the form asking,
    by default the active one)."""
    form = form or (tracker.active_loop or {}).get("name") or LEAD_FORM
    requested = tracker.get_slot(REQUESTED_SLOT)
    return TurnFacts(
        turn=last_turn(tracker),
        requested=requested,
        slots=dict(tracker.slots),
        context=svc.answer_context(),
        digression_confidence=svc.settings.digression_confidence,
        resuming=is_resuming(tracker, form),
        asked_in_a_row=times_asked_in_a_row(tracker.events, requested, form) if requested else 0,
        offered=offered_slots(tracker.get_slot("offered_slots")),
        visitor_tz=visitor_timezone(tracker),
        now=datetime.now(timezone.utc),
    )


async def _store_answer(
    svc: Services, tracker: Tracker, interpretation: Interpretation, raw_text: str | None
) -> None:
    """Persist an accepted answer — only once the visitor has consented."""
    if tracker.get_slot("consent") is not True:
        return
    await blocking(
        svc.leads.record_answer,
        tracker.sender_id,
        interpretation.slot,
        raw_text,
        interpretation.status.value,
        interpretation.lead_values,
    )


def _cleared() -> Dict[str, Any]:
    return {name: None for name in REASK_SLOTS}


def _say_reask(
    slot: str,
    values: Dict[str, Any],
    dispatcher: CollectingDispatcher,
    svc: Services,
    domain: DomainDict,
) -> str | None:
    """Say what was wrong with the answer (and, after a few tries, why we ask); return the
    re-ask that replaces the question's own wording, if there is one.

    Rasa's form then utters `utter_ask_<slot>` without calling the action server, and
    rasa_ext/nlg.py renders the returned response (slot `reask_response`) in its place.
    """
    _, error = decode_error(values["reask_error"])
    responses = reask_responses(
        slot,
        error,
        int(values["reask_count"]),
        svc.settings.reask_explain_after,
        available_responses(domain),
    )
    before, instead = split_reask(slot, responses)
    for response in before:
        dispatcher.utter_message(response=response)
    return instead


class ValidateLeadForm(FormValidationAction):
    """Applies the turn's decision while `lead_form` runs.

    Extracting nothing for the requested question makes Rasa reject the form for this turn, so
    a rule can answer a digression; the form then asks the same question again.
    """

    form = LEAD_FORM
    rescores = False  # a correction scores the lead again (meeting_form)

    def name(self) -> str:
        return f"validate_{self.form}"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        svc = services()
        decision = decide_turn(turn_facts(tracker, svc, self.form))
        token = _DECISION.set(decision)
        try:
            events = await super().run(dispatcher, tracker, domain)
        finally:
            _DECISION.reset(token)
        return await self._after(decision, events, dispatcher, tracker, domain, svc)

    async def _after(
        self,
        decision: Decision,
        events: List[EventType],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
        svc: Services,
    ) -> List[EventType]:
        """What the form adds once the turn's decision is applied: for lead_form nothing (the
        lead is scored by `action_score_lead` when the form is complete); where `rescores`
        (meeting_form), a correction scores the lead again and may end the step."""
        if not self.rescores or decision.kind is not Kind.CORRECTION:
            return events
        assessed = await assessment(tracker, svc, corrected=True)
        if not assessed:
            return events
        # The new score decides whether a meeting is still offered.
        tracker.add_slots(assessed)
        asked_next = await self.next_requested_slot(dispatcher, tracker, domain)
        return [e for e in events if e["name"] != REQUESTED_SLOT] + assessed + [asked_next]

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        """The questions and their order come from bot/conversation."""
        return self.slots_in_order(tracker.slots)

    @staticmethod
    def slots_in_order(slots: Dict[str, Any]) -> List[str]:
        """lead_form's questions, in the order they are asked, given the answers so far."""
        return required_slots(slots)

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType:
        """Always say which question is next (the SDK leaves it to Rasa when the list equals
        the domain's, but a score or a correction can change it within this turn)."""
        required = await self.required_slots([], dispatcher, tracker, domain)
        missing = (slot for slot in required if tracker.slots.get(slot) is None)
        return SlotSet(REQUESTED_SLOT, next(missing, None))

    # -- extraction and validation: apply the decision --------------------------------------------
    # The SDK finds a slot's `extract_<slot>` and `validate_<slot>` by name (getattr in
    # rasa_sdk/forms.py). For every slot of the form they do the same thing, apply the turn's
    # one decision to that slot, so they are answered from one table, `applies` (the two
    # consent questions and bot/conversation/questions.py's seven; meeting_form adds
    # meeting_choice), instead of twenty written-out methods that differ only in the slot name.
    applies: Tuple[str, ...] = FORM_SLOTS

    def __getattr__(self, name: str) -> Any:
        step, _, slot = name.partition("_")
        if slot in type(self).applies:
            if step == "extract":
                return functools.partial(self._extract, slot)
            if step == "validate":
                return functools.partial(self._apply, slot)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    async def _extract(
        self, slot: str, _: Dispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The decision's value for `slot`, if it fills it (`extract_<slot>`)."""
        return self._extracted(slot)

    @staticmethod
    def _extracted(slot: str) -> Dict[str, Any]:
        fills, value = _DECISION.get().value_for(slot)
        return {slot: value} if fills else {}

    async def _apply(
        self,
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        decision = _DECISION.get()
        if decision.also is not None and decision.also.slot == slot:
            decision = decision.also
        if not decision.value_for(slot)[0]:
            # Not this turn's doing (Rasa re-validates answers already given when the form
            # starts again after a pause): keep the value.
            return {slot: value}
        svc = services()
        if decision.kind is Kind.UP_FRONT:
            return {slot: decision.given[slot]}  # kept in the conversation until consent
        if decision.kind is Kind.REASK:
            values = reask_values(slot, decision.error or "invalid", tracker.slots, decision)
            if slot != MEETING:
                values[REASK_RESPONSE_SLOT] = _say_reask(slot, values, dispatcher, svc, domain)
            return values
        if decision.kind is Kind.WAY_OUT:
            return await self._give_up(slot, decision, dispatcher, tracker, svc, domain)
        if decision.kind is Kind.CORRECTION:
            assert decision.interpretation is not None
            await _store_answer(svc, tracker, decision.interpretation, last_turn(tracker).text)
            dispatcher.utter_message(
                response="utter_correction_applied",
                label=QUESTION_LABELS[slot],
                value=display_value(slot, decision.value, svc.settings.locale),
            )
            return {slot: decision.value}
        if decision.kind is Kind.MEETING_CHOICE:
            return await book_choice(decision.value, tracker, svc)
        if slot in ("consent", "nurture_consent"):
            return await self._consent(slot, decision.value, tracker, svc)
        assert decision.interpretation is not None
        await _store_answer(svc, tracker, decision.interpretation, last_turn(tracker).text)
        return {slot: decision.value, **_cleared()}

    @staticmethod
    async def _consent(slot: str, granted: bool, tracker: Tracker, svc: Services) -> Dict[str, Any]:
        version = svc.settings.consent_text_version
        values: Dict[str, Any] = {slot: granted, **_cleared()}
        if slot == "nurture_consent":
            await blocking(svc.leads.record_nurture_consent, tracker.sender_id, granted, version)
            return values
        given = filled_questions(tracker.slots)
        if not granted:
            # Nothing is stored; drop anything given up front from the conversation too.
            return {**values, **{question: None for question in given}}
        source = source_from_metadata(metadata(tracker))
        await blocking(svc.leads.start, tracker.sender_id, version, source)
        ctx = svc.answer_context()
        for question in given:
            understood = stored_values(question, tracker.slots[question], ctx)
            await blocking(
                svc.leads.record_answer,
                tracker.sender_id,
                question,
                None,
                understood.status.value,
                understood.lead_values,
            )
        return values

    @staticmethod
    async def _give_up(
        slot: str,
        decision: Decision,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        svc: Services,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        """Asked three times in a row: offer a way out (skip it, or a person) and move on."""
        dispatcher.utter_message(
            response=way_out_response(slot, available_responses(domain)),
            sales_email=svc.settings.sales_contact_email,
        )
        values: Dict[str, Any] = {slot: decision.value, **_cleared()}
        if slot == "consent":
            # No clear yes is no consent: nothing stored, answers given up front dropped.
            return {**values, **{q: None for q in filled_questions(tracker.slots)}}
        if slot == "nurture_consent":
            version = svc.settings.consent_text_version
            await blocking(svc.leads.record_nurture_consent, tracker.sender_id, False, version)
        elif slot in QUESTIONS and tracker.get_slot("consent") is True:
            await blocking(svc.leads.record_answer, tracker.sender_id, slot, None, SKIPPED, {})
        return values


async def assessment(tracker: Tracker, svc: Services, corrected: bool) -> List[EventType]:
    """Once every question is answered: score the lead, and offer a meeting if it's hot.

    A correction before a meeting is booked scores again ("actually we're 5 people" may
    no longer be worth a rep's time, or now is).
    """
    slots = tracker.slots
    if slots.get("consent") is not True or slots.get("meeting_choice") is not None:
        return []
    if slots.get("lead_tier") is not None and not corrected:
        return []
    if any(slots.get(question) is None for question in QUESTIONS):
        return []
    result = await blocking(svc.outcomes.assess, tracker.sender_id, _signals(tracker))
    if result is None:
        return []
    return [
        SlotSet("lead_tier", result.tier),
        SlotSet("meeting_offered", svc.outcomes.offers_meeting(result.tier)),
    ]


class ScoreLead(BotAction):
    """`lead_form` is complete: score the lead once (stored with its reasons) and say whether a
    meeting is offered; `meeting_form` comes next and asks for one only if it is."""

    action = "action_score_lead"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        return await assessment(tracker, services(), corrected=False)


class ValidateMeetingForm(ValidateLeadForm):
    """Applies the turn's decision while `meeting_form` runs: the choice of a time or a call
    back (booked by actions/booking.py), a digression, or a correction of an earlier answer,
    which scores the lead again and may end the step."""

    form = "meeting_form"
    applies = FORM_SLOTS + (MEETING,)  # a correction of an earlier answer is applied here too
    rescores = True

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if tracker.get_slot(REQUESTED_SLOT) is None:
            # The form starts: the visitor's last message answered lead_form, already applied.
            return [await self.next_requested_slot(dispatcher, tracker, domain)]
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    def slots_in_order(slots: Dict[str, Any]) -> List[str]:
        """The answers and meeting_choice for a sales-qualified lead; nothing for anyone else."""
        return meeting_slots(slots)


class BeginQualification(BotAction):
    """Runs before the form starts or resumes (a visitor who declined may have changed
    their mind)."""

    action = "action_begin_qualification"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        events: List[EventType] = []
        if tracker.get_slot("consent") is False:
            events.append(SlotSet("consent", None))
        if tracker.get_slot("consent") is True:
            svc = services()
            lead = await blocking(svc.leads.get, tracker.sender_id)
            if lead is not None and lead.status == LeadStatus.PAUSED:
                await blocking(svc.leads.set_status, tracker.sender_id, LeadStatus.IN_PROGRESS)
                dispatcher.utter_message(response="utter_resuming")
        return events


class SubmitLead(BotAction):
    """The form is complete: hand the lead over (or confirm nothing was stored)."""

    action = "action_submit_lead"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        if tracker.get_slot("consent") is not True:
            dispatcher.utter_message(response="utter_consent_declined")
            return []
        svc = services()
        choice = tracker.get_slot("meeting_choice")
        manage_url = None
        if choice and choice != CALLBACK:
            manage_url = await blocking(svc.outcomes.manage_url, tracker.sender_id)
        lead = await blocking(svc.leads.get, tracker.sender_id)
        if lead is None or lead.status != LeadStatus.COMPLETE:
            await blocking(svc.leads.set_status, tracker.sender_id, LeadStatus.COMPLETE)
        elif manage_url is None:
            dispatcher.utter_message(response="utter_lead_already_complete")
            return []
        # else: complete with a booked meeting, confirmed again as the first time. The turn
        # that booked it may not have been saved (the visitor got the apology and chose
        # again: bot/booking/service.py `AlreadyBooked`); a visitor asking again is best told
        # what they have.
        email = tracker.get_slot("email")
        has_email = email not in (None, SKIPPED)
        sales_email = svc.settings.sales_contact_email
        if choice == CALLBACK:
            requested = await blocking(svc.handoffs.request_callback, tracker.sender_id)
            dispatcher.utter_message(
                response="utter_callback_requested"
                if has_email
                else "utter_callback_requested_no_email",
                email=email,
                sales_email=sales_email,
                rep_name=requested.rep.name
                if requested and requested.rep
                else phrase(domain, "sales_team"),
            )
        elif choice:
            dispatcher.utter_message(
                response="utter_meeting_booked", **confirmation(tracker, svc, domain, manage_url)
            )
        elif await blocking(svc.outcomes.enroll, tracker.sender_id) is EnrollResult.ENROLLED:
            dispatcher.utter_message(response="utter_lead_complete_nurture")
        elif not has_email:
            dispatcher.utter_message(
                response="utter_lead_complete_no_email", sales_email=sales_email
            )
        else:
            name = tracker.get_slot("name")
            dispatcher.utter_message(
                response="utter_lead_complete"
                if name not in (None, DECLINED, SKIPPED)
                else "utter_lead_complete_anonymous",
                name=name,
                email=email,
            )
        return []


class PauseForm(BotAction):
    action = "action_pause_form"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        if tracker.get_slot("consent") is True:
            await blocking(services().leads.set_status, tracker.sender_id, LeadStatus.PAUSED)
        dispatcher.utter_message(response="utter_paused")
        return []


class ApplyCorrection(BotAction):
    """A correction outside the form, or one the form couldn't apply (unclear or invalid)."""

    action = "action_apply_correction"

    async def act(self, dispatcher: Dispatcher, tracker: Tracker, domain: Domain) -> Events:
        svc = services()
        slots = dict(tracker.slots)
        if not filled_questions(slots):
            dispatcher.utter_message(response="utter_correction_nothing_yet")
            return []
        # The same decision the form made (or would make) for this message: parsed once here.
        decision = decide_turn(turn_facts(tracker, svc))
        understood = (
            decision.interpretation
            if decision.kind in (Kind.CORRECTION, Kind.UNCLEAR_CORRECTION)
            else None
        )
        if understood is None:
            dispatcher.utter_message(response="utter_correction_unclear")
            return []
        slot = understood.slot
        if not understood.accepted:
            response = reask_responses(
                slot,
                understood.error,
                0,
                svc.settings.reask_explain_after,
                available_responses(domain),
            )[0]
            dispatcher.utter_message(
                response=response, email_suggestion=understood.suggestion or ""
            )
            return []
        await _store_answer(svc, tracker, understood, last_turn(tracker).text)
        dispatcher.utter_message(
            response="utter_correction_applied",
            label=QUESTION_LABELS[slot],
            value=display_value(slot, understood.slot_value, svc.settings.locale),
        )
        return [SlotSet(slot, understood.slot_value)]
