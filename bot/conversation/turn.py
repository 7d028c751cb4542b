"""One visitor turn, understood once.

`decide_turn(facts)` reads what the tracker knows (the question being asked, the answers so far,
the latest message with its intent and entities) and returns one `Decision`: an answer, a
correction, a digression, "what do you mean?", a meeting choice, a re-ask with its reason, or the
way out after a question was asked three times in a row. The forms in `actions/` only apply it
(store, book, say). Every text is parsed here, once; nothing here touches a database or Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any, Mapping, Sequence

from bot import answers
from bot.answers.meeting_choice import parse_slot_choice, wants_other_times
from bot.conversation.dialogue import (
    MAX_ASKS_IN_A_ROW,
    Turn,
    decode_error,
    filled_questions,
    is_digression,
    is_unknown_button,
    looks_like_a_question,
    skipped_value,
)
from bot.conversation.questions import (
    QUESTIONS,
    SKIPPED,
    AnswerContext,
    Interpretation,
    interpret,
)

CONSENT_SLOTS = ("consent", "nurture_consent")
MEETING = "meeting_choice"
CALLBACK = "callback"
# Given in the message that starts the form ("I'm the CTO, reach me at cto@globex.com").
UP_FRONT_SLOTS = ("email", "role")


class Kind(str, Enum):
    ANSWER = "answer"  # `slot` answered with `value` (and `interpretation` for questions)
    CORRECTION = "correction"  # an earlier answer to `slot` changed to `value`
    DIGRESSION = "digression"  # something else (`intent`): the form steps aside, a rule replies
    CLARIFY = "clarify"  # "what do you mean?": the question explained, then asked again
    MEETING_CHOICE = "meeting_choice"  # a time (`value`, UTC) or a call back (`value`=CALLBACK)
    REASK = "reask"  # no usable answer to `slot`: ask again, saying why (`error`)
    WAY_OUT = "way_out"  # asked three times in a row: skip `slot` (as `value`), offer a person
    UNCLEAR_CORRECTION = "unclear_correction"  # a correction we can't apply: step aside
    UP_FRONT = "up_front"  # answers given before their question (`given`)
    NOTHING = "nothing"  # nothing new in this turn (the form is back after a reply)


@dataclass(frozen=True)
class Decision:
    kind: Kind
    slot: str | None = None
    value: Any = None
    interpretation: Interpretation | None = None
    error: str | None = None
    suggestion: str | None = None
    intent: str | None = None
    given: Mapping[str, Any] = field(default_factory=dict)
    # A second decision in the same turn: a correction that also gives up on the question.
    also: Decision | None = None

    def value_for(self, slot: str) -> tuple[bool, Any]:
        """(True, value) when this decision fills `slot` (as answer, correction or skip)."""
        if self.kind is Kind.UP_FRONT:
            return (slot in self.given, self.given.get(slot))
        if self.also is not None and self.also.slot == slot:
            return self.also.value_for(slot)
        if self.slot != slot:
            return (False, None)
        if self.kind in (Kind.ANSWER, Kind.CORRECTION, Kind.MEETING_CHOICE, Kind.WAY_OUT):
            return (True, self.value)
        if self.kind is Kind.REASK:
            return (True, None)
        return (False, None)


@dataclass(frozen=True)
class TurnFacts:
    """What the tracker knows when the visitor's message arrives (plain values)."""

    turn: Turn
    requested: str | None
    slots: Mapping[str, Any]
    context: AnswerContext
    digression_confidence: float = 0.5
    # The form is running again after another action replied (a digression): same message.
    resuming: bool = False
    asked_in_a_row: int = 0
    # The meeting step: the times offered, the visitor's zone, now.
    offered: Sequence[datetime] = ()
    visitor_tz: str | None = None
    now: datetime | None = None


def decide_turn(facts: TurnFacts) -> Decision:
    """The one decision for this turn; see `Kind`."""
    requested = facts.requested
    if requested is None:
        if facts.turn.intent == "correct_answer":
            return _correction_outside_the_form(facts)
        return _up_front(facts)
    if facts.resuming:
        return _give_up_if_asked_enough(facts, Decision(Kind.NOTHING, requested))
    if facts.turn.intent == "correct_answer":
        return _correction_or_answer(facts)
    answer = _LazyAnswer(facts)
    if is_digression(
        facts.turn, facts.digression_confidence, requested, lambda: answer.get().error or "ok"
    ):
        if facts.turn.intent != "clarify":
            return Decision(Kind.DIGRESSION, requested, intent=facts.turn.intent)
        if looks_like_a_question(facts.turn.text) or not _failed_before(facts):
            return Decision(Kind.CLARIFY, requested, intent="clarify")
        # "hmm, many" after an unusable answer is another try: the re-ask explains, with
        # an example (and, after two, why we ask).
    return _reask_or_way_out(facts, answer.get())


def _failed_before(facts: TurnFacts) -> bool:
    """Whether the visitor's last answer to this question was unusable."""
    failed_slot, _ = decode_error(facts.slots.get("reask_error"))
    return failed_slot == facts.requested


def _up_front(facts: TurnFacts) -> Decision:
    given = {}
    for slot in UP_FRONT_SLOTS:
        text = facts.turn.entities.get(slot)
        if facts.slots.get(slot) is None and text:
            understood = interpret(slot, text, facts.context)
            if understood.accepted:
                given[slot] = understood.slot_value
    return Decision(Kind.UP_FRONT, given=given) if given else Decision(Kind.NOTHING)


def _correction_or_answer(facts: TurnFacts) -> Decision:
    """A correction if one can be applied; otherwise the message is tried as the answer to the
    question being asked ("in about 2 months" is no correction, whatever the NLU says). Only a
    correction aimed at an answer but unusable steps aside, for action_apply_correction."""
    found = detect_correction(facts)
    if found is not None and found.accepted:
        correction = Decision(Kind.CORRECTION, found.slot, found.slot_value, interpretation=found)
        if found.slot != facts.requested and facts.asked_in_a_row >= MAX_ASKS_IN_A_ROW:
            # The correction is applied, and the question isn't asked a fourth time.
            way_out = _give_up_if_asked_enough(facts, correction)
            return replace(correction, also=way_out)
        return correction
    answer = _answer(facts)
    if answer.kind is not Kind.REASK or found is None:
        return _reask_or_way_out(facts, answer)
    return Decision(Kind.UNCLEAR_CORRECTION, facts.requested, interpretation=found)


def _correction_outside_the_form(facts: TurnFacts) -> Decision:
    """No question is being asked: the message is a correction we can apply, or one we can't
    (`interpretation` says why, when we know which answer it aims at)."""
    found = detect_correction(facts)
    if found is not None and found.accepted:
        return Decision(Kind.CORRECTION, found.slot, found.slot_value, interpretation=found)
    return Decision(Kind.UNCLEAR_CORRECTION, found.slot if found else None, interpretation=found)


def detect_correction(facts: TurnFacts) -> Interpretation | None:
    """Which earlier answer the message corrects, and what the new one means (None: no
    correction recognised)."""
    filled = filled_questions(facts.slots)
    found = answers.detect_correction(
        facts.turn.text,
        last_filled_slot=filled[-1] if filled else None,
        requested_slot=facts.requested,
    )
    if found is None or found.slot not in QUESTIONS:
        return None
    return interpret(found.slot, found.text, facts.context)


class _LazyAnswer:
    """The message read as the answer, parsed at most once (the digression check may need it)."""

    def __init__(self, facts: TurnFacts) -> None:
        self.facts = facts
        self.decision: Decision | None = None

    def get(self) -> Decision:
        if self.decision is None:
            self.decision = _answer(self.facts)
        return self.decision


def _yes_no(turn: Turn) -> bool | None:
    if turn.intent == "affirm":
        return True
    if turn.intent == "deny":
        return False
    return answers.parse_yes_no(turn.text)


def _answer(facts: TurnFacts) -> Decision:
    """The message as the answer to the question being asked."""
    slot = facts.requested
    turn = facts.turn
    if slot == MEETING:
        return _meeting_choice(facts)
    if is_unknown_button(turn):
        return Decision(Kind.REASK, slot, error="unknown_button")
    if slot in CONSENT_SLOTS:
        granted = _yes_no(turn)
        if granted is None:
            return Decision(Kind.REASK, slot, error="unclear")
        return Decision(Kind.ANSWER, slot, granted)
    text = turn.text
    suggestion = facts.slots.get("email_suggestion")
    if slot == "email" and suggestion and _yes_no(turn) is True:
        text = suggestion  # "yes" to "did you mean …?"
    understood = interpret(slot, text, facts.context)
    if not understood.accepted:
        return Decision(
            Kind.REASK, slot, error=understood.error or "invalid", suggestion=understood.suggestion
        )
    return Decision(Kind.ANSWER, slot, understood.slot_value, interpretation=understood)


def _meeting_choice(facts: TurnFacts) -> Decision:
    turn = facts.turn
    if turn.text.startswith("/request_callback"):
        return Decision(Kind.MEETING_CHOICE, MEETING, CALLBACK)
    if turn.text.startswith("/other_times") or wants_other_times(turn.text):
        return Decision(Kind.REASK, MEETING, error="other_times")
    now = facts.now
    chosen = None
    for text in (
        turn.entities.get("meeting_start"),
        None if turn.text.startswith("/") else turn.text,
    ):
        if chosen is None and text and now is not None:
            chosen = parse_slot_choice(text, facts.offered, facts.visitor_tz, now)
    if chosen is None:
        return Decision(Kind.REASK, MEETING, error="unclear")
    return Decision(Kind.MEETING_CHOICE, MEETING, chosen)


def _reask_or_way_out(facts: TurnFacts, decision: Decision) -> Decision:
    if decision.kind is not Kind.REASK or decision.error == "other_times":
        return decision  # "show me later times" is a request, not a failed answer
    return _give_up_if_asked_enough(facts, decision)


def _give_up_if_asked_enough(facts: TurnFacts, decision: Decision) -> Decision:
    """Asked three times in a row and still no answer: skip the question (or, for consent,
    take it as no; for a meeting, a call back) and offer a person."""
    if facts.asked_in_a_row < MAX_ASKS_IN_A_ROW or facts.requested is None:
        return decision
    value = skipped_value(facts.requested, SKIPPED, CALLBACK)
    return Decision(Kind.WAY_OUT, facts.requested, value)
