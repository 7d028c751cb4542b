"""A dialogue that cannot loop: how often a question was asked in a row, and the reply that
would be the same a third time running."""

from __future__ import annotations

from bot.conversation.dialogue import (
    MAX_ASKS_IN_A_ROW,
    replies_by_turn,
    skipped_value,
    times_asked_in_a_row,
    way_out_response,
    would_repeat_third_time,
)


def ask(slot: str) -> list:
    """What the form leaves in the tracker when it asks: its action, `requested_slot`, words."""
    return [
        {"event": "action", "name": "lead_form"},
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "bot", "text": f"question {slot}"},
        {"event": "action", "name": "action_listen"},
    ]


def user(text: str = "x") -> dict:
    return {"event": "user", "text": text}


def slot(name: str, value: object) -> dict:
    return {"event": "slot", "name": name, "value": value}


# What Rasa appends while the form validates the latest message.
VALIDATING = [slot("requested_slot", "company"), {"event": "action", "name": "lead_form"}]


def test_asks_of_the_same_question_are_counted_until_something_else_happens() -> None:
    events = [*ask("role"), user(), {"event": "action", "name": "lead_form"}, slot("role", "CTO")]
    events += ask("company")[1:] + [user()]
    assert times_asked_in_a_row(events + VALIDATING, "company") == 1
    events += [{"event": "action", "name": "lead_form"}, slot("company", None)]
    events += ask("company")[1:] + [user(), {"event": "action", "name": "utter_out_of_scope"}]
    events += ask("company")
    assert times_asked_in_a_row(events + [user()] + VALIDATING, "company") == 3
    assert MAX_ASKS_IN_A_ROW == 3


def test_a_pause_or_another_question_starts_the_count_again() -> None:
    base = [*ask("budget"), user(), *ask("budget"), user()]
    assert times_asked_in_a_row(base, "budget") == 2
    # A correction of an earlier answer is followed by the same question: it counts.
    assert times_asked_in_a_row([*base, slot("company_size", 45), *ask("budget")], "budget") == 3
    paused = [*base, {"event": "active_loop", "name": None}, *ask("budget")]
    assert times_asked_in_a_row(paused, "budget") == 1
    assert times_asked_in_a_row([*base, *ask("timeline")], "budget") == 0


def test_what_a_question_given_up_on_becomes() -> None:
    assert skipped_value("consent", "skipped", "callback") is False
    assert skipped_value("nurture_consent", "skipped", "callback") is False
    assert skipped_value("meeting_choice", "skipped", "callback") == "callback"
    assert skipped_value("budget", "skipped", "callback") == "skipped"
    available = {"utter_way_out", "utter_way_out_email"}
    assert way_out_response("email", available) == "utter_way_out_email"
    assert way_out_response("budget", available) == "utter_way_out"


def test_the_third_identical_reply_in_a_row_is_caught() -> None:
    said = [("user", "hi"), ("bot", "A"), ("user", "??"), ("bot", "B"), ("bot", "Q")]
    said += [("user", "??"), ("bot", "B"), ("bot", "Q"), ("user", "??"), ("bot", "B")]
    replies = replies_by_turn(said)
    assert replies == [["A"], ["B", "Q"], ["B", "Q"], ["B"]]
    assert would_repeat_third_time(replies, "Q")
    assert not would_repeat_third_time(replies, "R")
    # Twice is fine; a different reply in between starts again.
    assert not would_repeat_third_time([["A"], ["B"], []], "B")
    assert not would_repeat_third_time([["B"], ["A"], ["B"], []], "B")
    assert would_repeat_third_time([["B"], ["B"], []], "B")
