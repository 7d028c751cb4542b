"""CRM events from the real stack: conversations over the REST channel, the action server
writing events with each change, the worker signing and delivering them to a receiver that
verifies each with the README's snippet. Every event of these conversations arrives once."""

from __future__ import annotations

import time
from typing import List, Tuple

import pytest
from sqlalchemy import select

from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import Lead
from tests.e2e.stack import Conversation, Stack
from tests.e2e.test_outcomes import answer_all

pytestmark = pytest.mark.e2e


def public_id(stack: Stack, chat: Conversation) -> str:
    engine = make_engine(stack.env["DATABASE_URL"])
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            return session.execute(
                select(Lead.public_id).where(Lead.conversation_id == chat.sender)
            ).scalar_one()
    finally:
        engine.dispose()


def received(stack: Stack, ids: set) -> List[Tuple[str, str]]:
    return sorted(pair for pair in stack.crm.types_by_lead() if pair[1] in ids)


def wait_for(stack: Stack, expected: List[Tuple[str, str]], timeout: float = 40.0) -> None:
    ids = {lead for _, lead in expected}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not set(expected) <= set(received(stack, ids)):
        time.sleep(0.5)


def test_every_event_of_the_conversations_arrives_once_and_signed(stack: Stack) -> None:
    hot = stack.conversation({"timezone": "Europe/Berlin"})
    answer_all(
        hot,
        ["Eve Event", "eve@eventco.de", "CTO", "EventCo", "800 people", "200k", "this quarter"],
    )
    assert "You're booked" in hot.click(payload_prefix="/choose_meeting")
    cold = stack.conversation()
    answer_all(
        cold,
        ["Nat Nurture", "nat@gmail.com", "student", "Uni", "just me", "no budget", "no idea"],
    )
    human = stack.conversation()
    human.reply("I'd like a demo")
    human.reply("yes")
    human.reply("no thanks")
    human.reply("Hugo Human")
    human.reply("hugo@human.io")
    asked = human.reply("can I talk to a real person please")
    assert "join this chat" in asked or "outside working hours" in asked  # reps' hours decide
    gone = stack.visitor()  # erasing needs a visitor session (bot/leads/sessions.py)
    gone.reply("I'd like a demo")
    gone.reply("yes")
    gone.reply("no thanks")
    gone.reply("Gina Gone")
    gone_id = public_id(stack, gone)
    wait_for(stack, [("lead.created", gone_id)])  # delivered before the visitor leaves
    assert "deleted everything" in gone.reply("please delete my data")

    hot_id, cold_id, human_id = (public_id(stack, chat) for chat in (hot, cold, human))
    expected = sorted(
        [
            ("lead.created", hot_id),
            ("lead.qualified", hot_id),
            ("meeting.booked", hot_id),
            ("lead.created", cold_id),
            ("lead.qualified", cold_id),
            ("lead.nurtured", cold_id),
            ("lead.created", human_id),
            ("handoff.requested", human_id),
            ("lead.created", gone_id),
            ("lead.erased", gone_id),
        ]
    )
    wait_for(stack, expected)
    time.sleep(3)  # anything delivered twice would arrive now
    ids = {hot_id, cold_id, human_id, gone_id}
    assert received(stack, ids) == expected
    events = [e for e in stack.crm.events if e["data"]["lead"]["id"] in ids]
    senders = (hot.sender, cold.sender, human.sender, gone.sender)
    assert not any(sender in str(events) for sender in senders)
    erased = next(e for e in events if e["type"] == "lead.erased")
    assert erased["data"] == {"lead": {"id": gone_id}}
    booked = next(e for e in events if e["type"] == "meeting.booked")
    assert booked["data"]["lead"]["email"] == "eve@eventco.de"
    assert booked["data"]["meeting"]["start"] == hot.lead()["meeting_start"]
