"""The qualification form: consent, the seven questions, corrections, pausing and submitting."""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction

from actions.booking import CALLBACK, confirmation, understand_choice
from actions.common import (
    Services,
    available_responses,
    blocking,
    error_from_this_turn,
    guarded,
    is_resuming,
    last_turn,
    metadata,
    reask_events,
    services,
)
from bot import answers
from bot.answers import Status
from bot.answers.meeting_choice import wants_other_times
from bot.conversation.dialogue import (
    MAX_ASKS_IN_A_ROW,
    Turn,
    decode_error,
    encode_error,
    filled_questions,
    is_digression,
    is_unknown_button,
    next_slot,
    reask_responses,
    skipped_value,
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
    interpret,
    stored_values,
)
from bot.leads.privacy import source_from_metadata
from bot.nurture.service import EnrollResult
from bot.storage.enums import LeadStatus

REASK_SLOTS = ("reask_error", "reask_count", "email_suggestion")


def _yes_no(turn: Turn) -> bool | None:
    if turn.intent == "affirm":
        return True
    if turn.intent == "deny":
        return False
    return answers.parse_yes_no(turn.text)


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


def _verdict(slot: str, text: str, svc: Services) -> str:
    """ "ok" or the error code: what the question's parser makes of `text`."""
    if slot == "meeting_choice":
        return "ok" if wants_other_times(text) else "unclear"
    if slot not in QUESTIONS:
        return "ok" if answers.parse_yes_no(text) is not None else "unclear"
    understood = interpret(slot, text, svc.answer_context())
    return "ok" if understood.status is Status.OK else (understood.error or "not_ok")


def _correction(
    turn: Turn, slots: Dict[str, Any], svc: Services
) -> Tuple[str | None, Interpretation | None]:
    """Which earlier answer the visitor is correcting, and what the new one means."""
    filled = filled_questions(slots)
    found = answers.detect_correction(
        turn.text,
        last_filled_slot=filled[-1] if filled else None,
        requested_slot=slots.get(REQUESTED_SLOT),
    )
    if found is None or found.slot not in QUESTIONS:
        return None, None
    return found.slot, interpret(found.slot, found.text, svc.answer_context())


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


class ValidateLeadForm(FormValidationAction):
    """Decides, for each message while `lead_form` runs, what it answers (if anything).

    Returning no slot for the requested question makes Rasa reject the form for this turn,
    so a rule can answer a digression; the form then asks the same question again.
    """

    def name(self) -> str:
        return "validate_lead_form"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        svc = services()
        turn = last_turn(tracker)
        slots = dict(tracker.slots)
        requested = slots.get(REQUESTED_SLOT)
        # After a digression's reply the form comes back with the same message: it was
        # understood the first time, so only the way out is considered then.
        resuming = is_resuming(tracker, "lead_form")
        events: List[EventType] = []
        if requested is None:
            events += self._given_up_front(turn, slots, svc)
        elif resuming:
            pass
        elif turn.intent == "correct_answer":
            events += await self._correct_or_answer(dispatcher, tracker, turn, slots, svc)
        elif not is_digression(
            turn,
            svc.settings.digression_confidence,
            requested,
            lambda: _verdict(requested, turn.text, svc),
        ):
            events += await self._answer(requested, turn, tracker, slots, svc)
        if requested is not None and self._asked_again(requested, events, resuming):
            if times_asked_in_a_row(tracker.events, requested) >= MAX_ASKS_IN_A_ROW:
                events = await self._give_up(dispatcher, tracker, requested, slots, svc, domain)
        for event in events:
            slots[event["name"]] = event["value"]
        corrected = turn.intent == "correct_answer" and any(
            event["name"] in QUESTIONS and event["name"] != requested for event in events
        )
        assessed = await self._assess_when_complete(tracker, slots, svc, corrected)
        for event in assessed:
            slots[event["name"]] = event["value"]
        return events + assessed + [SlotSet(REQUESTED_SLOT, next_slot(slots))]

    @staticmethod
    def _asked_again(requested: str, events: List[EventType], resuming: bool) -> bool:
        """Whether this turn ends with the same question asked again."""
        if resuming:
            return True
        if SlotSet("reask_error", encode_error(requested, "other_times")) in events:
            return False  # "show me later times" is a request, not a failed answer
        return SlotSet(requested, None) in events

    async def _give_up(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        slot: str,
        slots: Dict[str, Any],
        svc: Services,
        domain: Dict[str, Any],
    ) -> List[EventType]:
        """Asked three times in a row: offer a way out (skip it, or a person) and move on."""
        dispatcher.utter_message(
            response=way_out_response(slot, available_responses(domain)),
            sales_email=svc.settings.sales_contact_email,
        )
        value = skipped_value(slot, SKIPPED, CALLBACK)
        events: List[EventType] = [SlotSet(slot, value), *self._clear_reask()]
        if slot == "consent":
            # No clear yes is no consent: nothing stored, answers given up front dropped.
            return events + [SlotSet(question, None) for question in filled_questions(slots)]
        if slot == "nurture_consent":
            version = svc.settings.consent_text_version
            await blocking(svc.leads.record_nurture_consent, tracker.sender_id, False, version)
        elif slot in QUESTIONS and tracker.get_slot("consent") is True:
            await blocking(svc.leads.record_answer, tracker.sender_id, slot, None, SKIPPED, {})
        return events

    @staticmethod
    async def _assess_when_complete(
        tracker: Tracker, slots: Dict[str, Any], svc: Services, corrected: bool = False
    ) -> List[EventType]:
        """Once every question is answered: score the lead, and offer a meeting if it's hot.

        A correction before a meeting is booked scores again ("actually we're 5 people" may
        no longer be worth a rep's time, or now is).
        """
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

    @staticmethod
    def _given_up_front(turn: Turn, slots: Dict[str, Any], svc: Services) -> List[EventType]:
        """Email or role in the message that started the form ("I'm the CTO, want a demo")."""
        events = []
        for slot in ("email", "role"):
            if slots.get(slot) is None and turn.entities.get(slot):
                understood = interpret(slot, turn.entities[slot], svc.answer_context())
                if understood.accepted:
                    events.append(SlotSet(slot, understood.slot_value))
        return events

    async def _correct_or_answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        turn: Turn,
        slots: Dict[str, Any],
        svc: Services,
    ) -> List[EventType]:
        """A correction if one can be applied; otherwise the message is tried as the answer to
        the question being asked ("in about 2 months" is no correction, whatever the NLU says).
        Only a correction aimed at an answer but unusable steps aside for
        action_apply_correction to explain."""
        slot, understood = _correction(turn, slots, svc)
        if slot is not None and understood is not None and understood.accepted:
            await _store_answer(svc, tracker, understood, turn.text)
            dispatcher.utter_message(
                response="utter_correction_applied",
                label=QUESTION_LABELS[slot],
                value=display_value(slot, understood.slot_value),
            )
            return [SlotSet(slot, understood.slot_value)]
        requested = slots[REQUESTED_SLOT]
        answered = await self._answer(requested, turn, tracker, slots, svc)
        if slot is None or any(
            event["name"] == requested and event["value"] is not None for event in answered
        ):
            return answered
        return []  # action_apply_correction says what was wrong with the correction

    async def _answer(
        self, slot: str, turn: Turn, tracker: Tracker, slots: Dict[str, Any], svc: Services
    ) -> List[EventType]:
        if slot == "meeting_choice":
            return await understand_choice(turn, tracker, slots, svc)
        if is_unknown_button(turn):
            return self._rejected(slot, "unknown_button", None, slots)
        if slot in ("consent", "nurture_consent"):
            return await self._consent(slot, turn, tracker, slots, svc)
        text = turn.text
        if slot == "email" and slots.get("email_suggestion") and _yes_no(turn) is True:
            text = slots["email_suggestion"]  # "yes" to "did you mean …?"
        understood = interpret(slot, text, svc.answer_context())
        if not understood.accepted:
            return self._rejected(slot, understood.error or "invalid", understood.suggestion, slots)
        await _store_answer(svc, tracker, understood, turn.text)
        return [SlotSet(slot, understood.slot_value), *self._clear_reask()]

    async def _consent(
        self, slot: str, turn: Turn, tracker: Tracker, slots: Dict[str, Any], svc: Services
    ) -> List[EventType]:
        granted = _yes_no(turn)
        if granted is None:
            return self._rejected(slot, "unclear", None, slots)
        version = svc.settings.consent_text_version
        events: List[EventType] = [SlotSet(slot, granted), *self._clear_reask()]
        if slot == "nurture_consent":
            await blocking(svc.leads.record_nurture_consent, tracker.sender_id, granted, version)
            return events
        if not granted:
            # Nothing is stored; drop anything given up front from the conversation too.
            return events + [SlotSet(question, None) for question in filled_questions(slots)]
        source = source_from_metadata(metadata(tracker))
        await blocking(svc.leads.start, tracker.sender_id, version, source)
        ctx = svc.answer_context()
        for question in filled_questions(slots):
            understood = stored_values(question, slots[question], ctx)
            await blocking(
                svc.leads.record_answer,
                tracker.sender_id,
                question,
                None,
                understood.status.value,
                understood.lead_values,
            )
        return events

    @staticmethod
    def _rejected(
        slot: str, error: str, suggestion: str | None, slots: Dict[str, Any]
    ) -> List[EventType]:
        return [*reask_events(slot, error, slots), SlotSet("email_suggestion", suggestion)]

    @staticmethod
    def _clear_reask() -> List[EventType]:
        return [SlotSet(name, None) for name in REASK_SLOTS]


class AskForSlot(Action, abc.ABC):
    """Asks one question: normally, or as a specific re-ask after an answer we couldn't use."""

    @property
    @abc.abstractmethod
    def slot(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        settings = services().settings
        error_slot, error = decode_error(error_from_this_turn(tracker))
        responses = reask_responses(
            self.slot,
            error if error_slot == self.slot else None,
            int(tracker.get_slot("reask_count") or 0),
            settings.reask_explain_after,
            available_responses(domain),
        )
        for response in responses:
            dispatcher.utter_message(
                response=response,
                privacy_policy_url=settings.privacy_policy_url,
                consent_version=settings.consent_text_version,
                suggestion=tracker.get_slot("email_suggestion") or "",
            )
        return []


# One ask action per form slot: action_ask_consent, action_ask_name, …
for _slot in FORM_SLOTS:
    _class_name = "AskFor" + "".join(part.title() for part in _slot.split("_"))
    globals()[_class_name] = type(_class_name, (AskForSlot,), {"slot": _slot})


class BeginQualification(Action):
    """Runs before the form starts or resumes (a visitor who declined may have changed
    their mind)."""

    def name(self) -> str:
        return "action_begin_qualification"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
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


class SubmitLead(Action):
    """The form is complete: hand the lead over (or confirm nothing was stored)."""

    def name(self) -> str:
        return "action_submit_lead"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if tracker.get_slot("consent") is not True:
            dispatcher.utter_message(response="utter_consent_declined")
            return []
        svc = services()
        lead = await blocking(svc.leads.get, tracker.sender_id)
        if lead is not None and lead.status == LeadStatus.COMPLETE:
            dispatcher.utter_message(response="utter_lead_already_complete")
            return []
        await blocking(svc.leads.set_status, tracker.sender_id, LeadStatus.COMPLETE)
        choice = tracker.get_slot("meeting_choice")
        email = tracker.get_slot("email")
        has_email = email not in (None, SKIPPED)
        sales_email = svc.settings.sales_contact_email
        if choice == CALLBACK:
            await blocking(svc.leads.request_human, tracker.sender_id)
            dispatcher.utter_message(
                response="utter_callback_requested"
                if has_email
                else "utter_callback_requested_no_email",
                email=email,
                sales_email=sales_email,
            )
        elif choice:
            manage_url = await blocking(svc.outcomes.manage_url, tracker.sender_id)
            dispatcher.utter_message(
                response="utter_meeting_booked", **confirmation(tracker, svc, manage_url)
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


class PauseForm(Action):
    def name(self) -> str:
        return "action_pause_form"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        if tracker.get_slot("consent") is True:
            await blocking(services().leads.set_status, tracker.sender_id, LeadStatus.PAUSED)
        dispatcher.utter_message(response="utter_paused")
        return []


class ApplyCorrection(Action):
    """A correction outside the form, or one the form couldn't apply (unclear or invalid)."""

    def name(self) -> str:
        return "action_apply_correction"

    @guarded
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        svc = services()
        slots = dict(tracker.slots)
        if not filled_questions(slots):
            dispatcher.utter_message(response="utter_correction_nothing_yet")
            return []
        turn = last_turn(tracker)
        slot, understood = _correction(turn, slots, svc)
        if slot is None or understood is None:
            dispatcher.utter_message(response="utter_correction_unclear")
            return []
        if not understood.accepted:
            response = reask_responses(
                slot,
                understood.error,
                0,
                svc.settings.reask_explain_after,
                available_responses(domain),
            )[0]
            dispatcher.utter_message(response=response, suggestion=understood.suggestion or "")
            return []
        await _store_answer(svc, tracker, understood, turn.text)
        dispatcher.utter_message(
            response="utter_correction_applied",
            label=QUESTION_LABELS[slot],
            value=display_value(slot, understood.slot_value),
        )
        return [SlotSet(slot, understood.slot_value)]
