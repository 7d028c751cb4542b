"""Actions with real Rasa SDK trackers: the events they return and what they store."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk.events import AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import services
from actions.faq import AnswerQuestion
from actions.privacy import ForgetMe, ShowMyData
from actions.qualification import SubmitLead, ValidateLeadForm
from bot.leads.sessions import SESSION_METADATA_KEY
from tests.actions.conftest import make_tracker

CLEAR = [
    SlotSet("reask_error", None),
    SlotSet("reask_count", None),
    SlotSet("email_suggestion", None),
]
CONSENTED = {"consent": True, "nurture_consent": False}


async def test_consent_yes_creates_the_lead_with_its_source(domain: Dict[str, Any]) -> None:
    tracker = make_tracker(
        "yes, that's fine",
        "affirm",
        slots={"requested_slot": "consent"},
        metadata={"page_url": "https://ex.test/pricing?utm_source=ads"},
    )
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert events == [
        SlotSet("consent", True),
        *CLEAR,
        SlotSet("requested_slot", "nurture_consent"),
    ]
    lead = services().leads.get("visitor-1")
    assert lead is not None and lead["source"]["utm_source"] == "ads"


async def test_consent_no_stores_nothing_and_ends_the_form(domain: Dict[str, Any]) -> None:
    tracker = make_tracker(
        "no", "deny", slots={"requested_slot": "consent", "role": "CTO", "email": "a@b.co"}
    )
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert events == [
        SlotSet("consent", False),
        *CLEAR,
        SlotSet("email", None),
        SlotSet("role", None),  # given up front, dropped again
        SlotSet("requested_slot", None),
    ]
    assert services().leads.get("visitor-1") is None


async def test_unclear_consent_is_asked_again(domain: Dict[str, Any]) -> None:
    tracker = make_tracker("hmm maybe", "inform", slots={"requested_slot": "consent"})
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert SlotSet("reask_error", "consent:unclear") in events
    assert events[-1] == SlotSet("requested_slot", "consent")


async def test_an_answer_is_normalised_and_stored(domain: Dict[str, Any]) -> None:
    services().leads.start("visitor-1", "v1")
    tracker = make_tracker(
        "roughly 30 of us", "inform", slots={**CONSENTED, "requested_slot": "company_size"}
    )
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert events == [SlotSet("company_size", 30), *CLEAR, SlotSet("requested_slot", "name")]
    lead = services().leads.get("visitor-1")
    assert lead["company_size"] == 30
    assert lead.answers["company_size"].raw_text == "roughly 30 of us"


async def test_an_unusable_answer_sets_up_a_specific_reask(domain: Dict[str, Any]) -> None:
    slots = {**CONSENTED, "name": "Jo", "requested_slot": "email"}
    tracker = make_tracker("jo at example", "inform", slots=slots)
    dispatcher = CollectingDispatcher()
    events = await ValidateLeadForm().run(dispatcher, tracker, domain)
    assert events == [
        SlotSet("email", None),
        SlotSet("reask_error", "email:no_at"),
        SlotSet("reask_count", 1),
        SlotSet("email_suggestion", None),
        # said by Rasa's form in place of utter_ask_email (rasa_ext/nlg.py)
        SlotSet("reask_response", "utter_invalid_email_no_at"),
        SlotSet("requested_slot", "email"),
    ]
    assert dispatcher.messages == []


async def test_a_reask_says_what_was_wrong_before_the_question(domain: Dict[str, Any]) -> None:
    """A reason that fits any question is said by the validation; the form then asks the
    question in its own words. After two failures in a row, why we ask comes first."""
    slots = {**CONSENTED, "requested_slot": "budget"}
    dispatcher = CollectingDispatcher()
    events = await ValidateLeadForm().run(
        dispatcher, make_tracker("<b>10k</b>", "inform", slots=slots), domain
    )
    assert SlotSet("reask_response", None) in events
    assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_markup"]
    slots = {**CONSENTED, "name": "Jo", "requested_slot": "company_size"}
    slots |= {"reask_error": "company_size:invalid", "reask_count": 1}
    dispatcher = CollectingDispatcher()
    events = await ValidateLeadForm().run(
        dispatcher, make_tracker("<script>", "inform", slots=slots), domain
    )
    assert SlotSet("reask_count", 2) in events and SlotSet("reask_response", None) in events
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_why_company_size",
        "utter_invalid_markup",
    ]


async def test_a_question_mid_form_makes_the_form_step_aside(domain: Dict[str, Any]) -> None:
    tracker = make_tracker(
        "what does it cost?", "ask_pricing", slots={**CONSENTED, "requested_slot": "name"}
    )
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert events == [SlotSet("requested_slot", "name")]  # no answer: Rasa rejects the form
    dispatcher = CollectingDispatcher()
    await AnswerQuestion().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_pricing"]


async def test_a_correction_mid_form_updates_the_earlier_answer(domain: Dict[str, Any]) -> None:
    services().leads.start("visitor-1", "v1")
    slots = {
        **CONSENTED,
        "name": "Jo",
        "email": "jo@x.io",
        "role": "CTO",
        "company": "X",
        "company_size": 450,
        "requested_slot": "budget",
    }
    tracker = make_tracker("wait, it's 45 people, not 450", "correct_answer", slots=slots)
    dispatcher = CollectingDispatcher()
    events = await ValidateLeadForm().run(dispatcher, tracker, domain)
    assert events == [SlotSet("company_size", 45), SlotSet("requested_slot", "budget")]
    assert dispatcher.messages[0]["response"] == "utter_correction_applied"
    assert dispatcher.messages[0]["value"] == "45 people"
    assert services().leads.get("visitor-1")["company_size"] == 45


async def test_submit_without_consent_stores_nothing(domain: Dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("no", "deny", slots={"consent": False}, active_loop=None)
    assert await SubmitLead().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages[0]["response"] == "utter_consent_declined"


async def test_forget_me_erases_and_resets(domain: Dict[str, Any]) -> None:
    store = services().leads
    store.start("visitor-1", "v1")
    store.record_answer("visitor-1", "name", "Jo", "ok", {"name": "Jo"})
    tracker = make_tracker(
        "forget me",
        "delete_data",
        slots={"consent": True, "name": "Jo"},
        metadata={SESSION_METADATA_KEY: True},
    )
    dispatcher = CollectingDispatcher()
    assert await ForgetMe().run(dispatcher, tracker, domain) == [AllSlotsReset()]
    assert store.get("visitor-1") is None and store.erasure_count() == 1
    shown = CollectingDispatcher()
    await ShowMyData().run(shown, tracker, domain)
    assert shown.messages[0]["response"] == "utter_my_data_nothing"


async def test_without_a_verified_session_nothing_is_shown_or_erased(
    domain: Dict[str, Any],
) -> None:
    store = services().leads
    store.start("visitor-1", "v1")
    store.record_answer("visitor-1", "name", "Jo", "ok", {"name": "Jo"})
    for metadata in ({}, {SESSION_METADATA_KEY: False}, {SESSION_METADATA_KEY: "true"}):
        for action, text, intent in (
            (ShowMyData(), "what do you know about me", "show_my_data"),
            (ForgetMe(), "forget me", "delete_data"),
        ):
            dispatcher = CollectingDispatcher()
            tracker = make_tracker(text, intent, slots={"consent": True}, metadata=metadata)
            assert await action.run(dispatcher, tracker, domain) == []
            assert dispatcher.messages == [
                {
                    **dispatcher.messages[0],
                    "response": "utter_privacy_unverified",
                    "privacy_email": "privacy@example.com",
                }
            ]
    assert store.get("visitor-1")["name"] == "Jo" and store.erasure_count() == 0


async def test_a_failing_action_apologises_instead_of_crashing(
    domain: Dict[str, Any], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "sqlite:////proc/no/such/dir/leadbot.db")
    services.cache_clear()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "what do you know about me", "show_my_data", metadata={SESSION_METADATA_KEY: True}
    )
    assert await ShowMyData().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages[0]["response"] == "utter_something_went_wrong"


ANSWERED_TO_BUDGET = {
    **CONSENTED,
    "name": "Jo",
    "email": "jo@x.io",
    "role": "CTO",
    "company": "X",
    "company_size": 45,
    "budget": 20000,
}


async def test_a_plain_answer_read_as_a_correction_answers_the_question(
    domain: Dict[str, Any],
) -> None:
    """The visitor who was told "not sure which answer you'd like to change" forever."""
    services().leads.start("visitor-1", "v1")
    slots = {**ANSWERED_TO_BUDGET, "requested_slot": "timeline"}
    tracker = make_tracker("hopefully in about 2 months", "correct_answer", slots=slots)
    dispatcher = CollectingDispatcher()
    events = await ValidateLeadForm().run(dispatcher, tracker, domain)
    assert SlotSet("timeline", 2) in events
    assert dispatcher.messages == []  # no "which answer would you like to change?"
    assert services().leads.get("visitor-1")["timeline_months"] == 2


def asked(slot: str, times: int) -> list:
    """The events of a question asked `times` times in a row, each answered "lots"."""
    events: list = []
    for _ in range(times):
        events += [
            {"event": "action", "name": "lead_form"},
            {"event": "slot", "name": slot, "value": None},
            {"event": "slot", "name": "requested_slot", "value": slot},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "lots"},
        ]
    # As Rasa sends it during validation: then `requested_slot` and the form's own action.
    return events + [
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "action", "name": "lead_form"},
    ]


async def test_a_question_is_asked_at_most_three_times_then_a_way_out(
    domain: Dict[str, Any],
) -> None:
    services().leads.start("visitor-1", "v1")
    slots = {**ANSWERED_TO_BUDGET, "company_size": None, "budget": None}
    slots["requested_slot"] = "company_size"
    # Asked twice: the third failure is asked again.
    tracker = make_tracker("lots", "inform", slots=slots, events=asked("company_size", 2))
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert events[-1] == SlotSet("requested_slot", "company_size")
    # Asked three times: the way out, and the form moves on.
    tracker = make_tracker("lots", "inform", slots=slots, events=asked("company_size", 3))
    dispatcher = CollectingDispatcher()
    events = await ValidateLeadForm().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_way_out"]
    assert SlotSet("company_size", "skipped") in events
    assert events[-1] == SlotSet("requested_slot", "budget")
    answer = services().leads.get("visitor-1").answers["company_size"]
    assert answer.status == "skipped"


async def test_digressions_count_too_and_consent_never_given_is_no_consent(
    domain: Dict[str, Any],
) -> None:
    slots = {"requested_slot": "consent", "email": "a@b.co"}
    # The form resumes after the rule replied (Rasa appends the form's own action).
    events = asked("consent", 3)[:-2] + [
        {"event": "action", "name": "utter_out_of_scope"},
        {"event": "bot", "text": "That's outside what I can help with"},
        {"event": "slot", "name": "requested_slot", "value": "consent"},
        {"event": "action", "name": "lead_form"},
    ]
    tracker = make_tracker("what's the weather", "out_of_scope", slots=slots, events=events)
    dispatcher = CollectingDispatcher()
    result = await ValidateLeadForm().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_way_out_consent"
    assert SlotSet("consent", False) in result and SlotSet("email", None) in result
    assert result[-1] == SlotSet("requested_slot", None)
    assert services().leads.get("visitor-1") is None


async def test_resuming_after_a_pause_keeps_the_answers_and_asks_on(
    domain: Dict[str, Any],
) -> None:
    """Rasa re-validates the answers already given when the form starts again: kept as they are
    (the simulator found this one: "let's continue" got an apology)."""
    services().leads.start("visitor-1", "v1")
    slots = {**ANSWERED_TO_BUDGET, "requested_slot": None}
    events = [
        {"event": "user", "text": "let's continue"},
        {"event": "action", "name": "action_begin_qualification"},
        {"event": "slot", "name": "requested_slot", "value": None},
        {"event": "action", "name": "lead_form"},
        # the answers already given, as candidates
        *({"event": "slot", "name": k, "value": v} for k, v in ANSWERED_TO_BUDGET.items()),
    ]
    tracker = make_tracker("let's continue", "resume_form", slots=slots, events=events)
    dispatcher = CollectingDispatcher()
    result = await ValidateLeadForm().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []  # no apology
    assert SlotSet("company_size", 45) in result and SlotSet("budget", 20000) in result
    assert result[-1] == SlotSet("requested_slot", "timeline")


async def test_corrections_outside_the_form_apply_the_turn_decision(
    domain: Dict[str, Any],
) -> None:
    from actions.qualification import ApplyCorrection

    services().leads.start("visitor-1", "v1")
    slots = {**ANSWERED_TO_BUDGET, "timeline": 3}
    said = []
    for text in ("wait, it's 45 people, not 450", "actually my email is jo at x dot io", "hmm"):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(text, "correct_answer", slots=slots, active_loop=None)
        events = await ApplyCorrection().run(dispatcher, tracker, domain)
        said.append((dispatcher.messages[0]["response"], events))
    assert said == [
        ("utter_correction_applied", [SlotSet("company_size", 45)]),
        ("utter_invalid_email", []),
        ("utter_correction_unclear", []),
    ]
    assert services().leads.get("visitor-1")["company_size"] == 45


async def test_follow_up_consent_is_read_back_in_the_domains_words(
    domain: Dict[str, Any],
) -> None:
    store = services().leads
    store.start("visitor-1", "v1")
    store.record_answer("visitor-1", "name", "Jo", "ok", {"name": "Jo"})
    said = []
    for granted in (True, False):
        store.record_nurture_consent("visitor-1", granted, "v1")
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            "what do you know about me",
            "show_my_data",
            slots={"consent": True},
            metadata={SESSION_METADATA_KEY: True},
        )
        await ShowMyData().run(dispatcher, tracker, domain)
        said.append((dispatcher.messages[0]["name"], dispatcher.messages[0]["nurture_consent"]))
    assert said == [("Jo", "yes"), ("Jo", "no")]


def test_every_form_slot_has_its_extract_and_validate_method() -> None:
    """The SDK looks `extract_<slot>` / `validate_<slot>` up by name; each form answers for
    every slot it applies the turn's decision to (`applies`), and for nothing else."""
    import inspect

    from actions.qualification import ValidateLeadForm, ValidateMeetingForm
    from bot.conversation.questions import FORM_SLOTS

    lead, meeting = ValidateLeadForm(), ValidateMeetingForm()
    for form, slots in ((lead, FORM_SLOTS), (meeting, FORM_SLOTS + ("meeting_choice",))):
        for slot in slots:
            extract, validate = getattr(form, f"extract_{slot}"), getattr(form, f"validate_{slot}")
            assert list(inspect.signature(extract).parameters) == ["_", "tracker", "domain"]
            assert len(inspect.signature(validate).parameters) == 4
    assert getattr(lead, "extract_meeting_choice", None) is None
    assert getattr(lead, "validate_requested_slot", None) is None
    assert getattr(meeting, "extract_industry", None) is None
