"""Dialogue decisions that don't need Rasa: which slot to ask next, whether a message mid-form
is an answer or a digression, and which response to use for a re-ask or a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Collection, List, Mapping, Sequence, Tuple

from bot.answers.requests import is_request
from bot.conversation.questions import FORM_SLOTS, QUESTIONS

# Intents that, recognised with enough confidence, mean "not an answer": the form steps aside,
# a rule handles the message, and the form asks the same question again afterwards.
DIGRESSION_INTENTS = frozenset(
    {
        "ask_what_you_do",
        "ask_pricing",
        "ask_why_needed",
        "clarify",
        "ask_security",
        "bot_challenge",
        "stop_form",
        "goodbye",
        "human_handoff",
        "delete_data",
        "show_my_data",
        "out_of_scope",
        "empty_message",
        "message_too_long",
    }
)

# Questions answered by a fixed response, wherever the conversation is.
ANSWERS: Mapping[str, str] = {
    "ask_what_you_do": "utter_what_we_do",
    "ask_pricing": "utter_pricing",
    "ask_security": "utter_security",
    "bot_challenge": "utter_iamabot",
}


@dataclass(frozen=True)
class Turn:
    """What the visitor just said, as the NLU understood it."""

    text: str
    intent: str | None
    confidence: float
    entities: Mapping[str, str]


# Digressions whose wording overlaps real answers ("later this year" reads like "later");
# for questions whose answers have a shape a parser can confirm, a parsed answer wins.
SOFT_DIGRESSIONS = frozenset({"stop_form", "goodbye", "out_of_scope"})
# Questions to the bot: one not phrased as a question, that parses as the answer, is the answer.
QUESTION_INTENTS = frozenset(
    {"ask_what_you_do", "ask_pricing", "ask_why_needed", "ask_security", "bot_challenge", "clarify"}
)
SHAPED_ANSWERS = frozenset({"email", "company_size", "budget", "timeline", "meeting_choice"})
# Answers that are attempts, just unusable ones (markup, a wall of text): they get the
# question's specific re-ask rather than the off-topic reply.
MALFORMED_ANSWERS = frozenset({"markup", "too_long"})


BUTTON_ANSWER = re.compile(
    r"^/(affirm|deny|choose_meeting|other_times|request_callback)(\{.*\})?\s*$"
)


def is_unknown_button(turn: Turn) -> bool:
    """A payload that is no answer to a question: an old button, or one we don't have.

    Rasa runs an unknown payload ("/no_such_button") through the NLU, which may well call it
    "deny": it must never be read as an answer.
    """
    return turn.text.startswith("/") and not BUTTON_ANSWER.match(turn.text)


def is_digression(
    turn: Turn,
    threshold: float,
    requested_slot: str | None = None,
    check_answer: Callable[[], str] = lambda: "invalid",
) -> bool:
    """True when the message is confidently something other than an answer.

    `check_answer` says what the requested question's parser makes of the message: "ok", or
    the error code.
    """
    if turn.text.startswith("/"):
        # A button's payload: a digression only if it is one of those intents' buttons.
        return turn.intent in DIGRESSION_INTENTS and turn.text[1:].startswith(turn.intent or "")
    if turn.intent not in DIGRESSION_INTENTS or turn.confidence < threshold:
        return False
    verdict = check_answer()
    if verdict in MALFORMED_ANSWERS:
        # A wall of text or markup says little about intent; re-ask the question instead.
        return False
    answerable = turn.intent in SOFT_DIGRESSIONS or turn.intent in QUESTION_INTENTS
    if answerable and verdict == "ok" and announces_answer(requested_slot, turn.text):
        return False  # "the company is Sparrow Media" is an answer, whatever the NLU says
    if (
        turn.intent == "out_of_scope"
        and verdict == "ok"
        and is_typed_as_a_name(requested_slot, turn.text)
    ):
        # The NLU has seen few of the world's names: "Zelda Obmafghmfk" may score as off-topic.
        return False
    if requested_slot in SHAPED_ANSWERS and verdict == "ok":
        if turn.intent in SOFT_DIGRESSIONS:
            # "what's the weather like today?" and "my invoice from last month is wrong" hold
            # a time, but ask about something else.
            return turn.intent == "out_of_scope" and (
                looks_like_a_question(turn.text) or is_request(turn.text)
            )
        if turn.intent in QUESTION_INTENTS:
            # "we don't have any budget for this" is an answer, whatever the NLU says, unless
            # it is asked as a question ("what's the price for 10 people?").
            return looks_like_a_question(turn.text)
    return True


_QUESTION = re.compile(
    r"\?\s*$|^\s*(what|why|how|who|where|which|do|does|did|is|are|can|could|would|will|should)\b",
    re.IGNORECASE,
)


# Words that introduce an answer to the question being asked.
_ANNOUNCED = {
    "company": re.compile(
        r"^\s*(i (work|am working|'m working) (at|for)|i'?m (with|at|from)|i am (with|at|from)"
        r"|i (study|am studying|'m studying) (at|in)"
        r"|(the|our|my) (company|employer|firm|organi[sz]ation)( name)? is|we'?re called)\b",
        re.IGNORECASE,
    ),
    "name": re.compile(r"^\s*(my name is|my name's|call me|the name is)\b", re.IGNORECASE),
}


def announces_answer(requested_slot: str | None, text: str) -> bool:
    """A message worded as the answer to the question ("I work at Acme", "my name is Jo")."""
    pattern = _ANNOUNCED.get(requested_slot or "")
    return bool(pattern and pattern.search(text))


NAME_SLOTS = frozenset({"name", "company"})
_NAME_PUNCTUATION = frozenset("-'’.&")


def is_typed_as_a_name(requested_slot: str | None, text: str) -> bool:
    """A name or company typed as one, when one is asked for: one to four words, each starting
    with a capital letter and made of letters (and hyphens, apostrophes, dots, "&")."""
    words = text.split()
    return (
        requested_slot in NAME_SLOTS
        and 1 <= len(words) <= 4
        and all(
            word == "&"
            or (word[0].isupper() and all(c.isalpha() or c in _NAME_PUNCTUATION for c in word))
            for word in words
        )
    )


def looks_like_a_question(text: str) -> bool:
    """A message phrased as a question (a question mark, or a question word first)."""
    return bool(_QUESTION.search(text))


def required_slots(slots: Mapping[str, Any]) -> List[str]:
    """`lead_form`'s questions; a visitor who declined consent is asked nothing more."""
    if slots.get("consent") is False:
        return ["consent"]
    return list(FORM_SLOTS)


def meeting_slots(slots: Mapping[str, Any]) -> List[str]:
    """`meeting_form`'s slots: the meeting choice for a sales-qualified lead, nothing (the form
    ends as it starts) for anyone else.

    The answers come first though they are all given by then: a correction during the meeting
    step fills one of them, and the SDK only extracts and validates the slots listed here.
    """
    if not slots.get("meeting_offered"):
        return []
    return [*FORM_SLOTS, "meeting_choice"]


def next_slot(slots: Mapping[str, Any]) -> str | None:
    return next((slot for slot in required_slots(slots) if slots.get(slot) is None), None)


def answer_response(intent: str | None, requested_slot: str | None) -> str:
    """The response for a question: "why do you need this?" depends on what was asked."""
    if intent == "ask_why_needed":
        return f"utter_why_{requested_slot}" if requested_slot else "utter_why_general"
    if intent == "clarify":
        # "What do you mean?": the question explained with an example; the form asks it again.
        return f"utter_clarify_{requested_slot}" if requested_slot else "utter_what_i_can_do"
    return ANSWERS.get(intent or "", "utter_what_i_can_do")


def reask_responses(
    slot: str,
    error: str | None,
    attempts: int,
    explain_after: int,
    available: Collection[str],
) -> List[str]:
    """Responses that ask for `slot`: the question, or a re-ask that says what was wrong.

    The most specific response wins: `utter_invalid_<slot>_<error>`, else a response for the
    error whatever the question (`utter_invalid_<error>`, followed by the question), else
    `utter_invalid_<slot>`. After `explain_after` failed attempts in a row, the re-ask is
    preceded by why we ask.
    """
    if error is None:
        return [f"utter_ask_{slot}"]
    if f"utter_invalid_{slot}_{error}" in available:
        responses = [f"utter_invalid_{slot}_{error}"]
    elif f"utter_invalid_{error}" in available:
        responses = [f"utter_invalid_{error}", f"utter_ask_{slot}"]
    else:
        responses = [f"utter_invalid_{slot}"]
    if attempts >= explain_after and f"utter_why_{slot}" in available:
        responses.insert(0, f"utter_why_{slot}")
    return responses


# The slot that names the re-ask replacing a question's own wording (set by the form's validation).
REASK_RESPONSE_SLOT = "reask_response"


def split_reask(slot: str, responses: Sequence[str]) -> Tuple[List[str], str | None]:
    """`reask_responses` split into what is said before the question, and the response said
    instead of `utter_ask_<slot>` (None: the question in its own words).

    The form asks the question itself (`utter_ask_<slot>`, no action-server call), so the
    validation says the lines before it and names the replacement, if any.
    """
    *before, last = responses
    return before, None if last == f"utter_ask_{slot}" else last


def said_instead(utter_action: str, reask_response: str | None) -> str:
    """The response to render for `utter_action`: a question's re-ask, set this turn
    (`reask_response`), replaces the question; anything else is said as it is."""
    if not reask_response or not utter_action.startswith("utter_ask_"):
        return utter_action
    slot = utter_action[len("utter_ask_") :]
    return reask_response if reask_response.startswith(f"utter_invalid_{slot}") else utter_action


def encode_error(slot: str, error: str) -> str:
    return f"{slot}:{error}"


def decode_error(value: str | None) -> Tuple[str | None, str | None]:
    if not value or ":" not in value:
        return None, None
    slot, _, error = value.partition(":")
    return slot, error


def filled_questions(slots: Mapping[str, Any]) -> Sequence[str]:
    return [slot for slot in QUESTIONS if slots.get(slot) is not None]


# No question is asked more than this many times in a row: after that the visitor is offered
# a way out (skip it, or talk to a person) and the form moves on.
MAX_ASKS_IN_A_ROW = 3


def times_asked_in_a_row(
    events: Sequence[Mapping[str, Any]], slot: str, form: str = "lead_form"
) -> int:
    """How many times `slot`'s question was asked since anything else happened to the form.

    `events` are the tracker's events as plain dicts, oldest first. Every time the form asks a
    question it sets `requested_slot`, so those are counted. Counting stops at another
    question, the form ending (a pause), or the start of the conversation — not at a
    correction of an earlier answer, after which the same question comes again. While the form
    validates, Rasa appends `requested_slot` and the form's own action: that tail is no ask.
    """
    events = list(events)
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "action" and events[index].get("name") == form:
            if index > 0 and events[index - 1].get("name") == "requested_slot":
                events = events[: index - 1]
            break
    count = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == "requested_slot":
                if value != slot:
                    break
                count += 1
            elif name == slot and value is not None:
                break
        elif kind == "active_loop" and event.get("name") is None:
            break
        elif kind in ("restart", "session_started", "reset_slots"):
            break
    return count


def skipped_value(slot: str, skipped: str, callback: str) -> Any:
    """What a question given up on is recorded as, so the form moves on.

    Consent not clearly given is no consent (nothing stored, no emails); a meeting time that
    can't be agreed becomes a call back from the rep; any other question is skipped.
    """
    if slot in ("consent", "nurture_consent"):
        return False
    if slot == "meeting_choice":
        return callback
    return skipped


def way_out_response(slot: str, available: Collection[str]) -> str:
    """The message that offers the way out when a question is given up on."""
    specific = f"utter_way_out_{slot}"
    return specific if specific in available else "utter_way_out"


# What replaces a reply that would otherwise be the same for the third time running.
GOING_IN_CIRCLES = "utter_going_in_circles"


def replies_by_turn(events: Sequence[Tuple[str, str | None]]) -> List[List[str]]:
    """The bot's texts grouped by the visitor message they answered, oldest first.

    `events` are ("user", text) and ("bot", text) pairs in order; the last group is the reply
    being written now (possibly still empty).
    """
    replies: List[List[str]] = []
    for kind, text in events:
        if kind == "user":
            replies.append([])
        elif kind == "bot" and replies:
            replies[-1].append(text or "")
    return replies


def would_repeat_third_time(replies: Sequence[Sequence[str]], text: str | None) -> bool:
    """True when adding `text` makes this reply the same as each of the two before it.

    No message, in any state, gets the same reply three times running: the caller then says
    `GOING_IN_CIRCLES` instead, which offers other ways forward.
    """
    if len(replies) < 3:
        return False
    current = [*replies[-1], text or ""]
    return list(replies[-2]) == current and list(replies[-3]) == current
