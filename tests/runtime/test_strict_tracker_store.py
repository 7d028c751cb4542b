"""A tracker store that fails fails the turn (rasa_ext/tracker_store.py `StrictTrackerStore`),
and a turn that could not be saved is answered with the apology alone (rasa_ext/channels.py).
The same on a real PostgreSQL, end to end: tests/e2e/test_tracker_store_faults.py."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext.channels import never_silent
from rasa_ext.tracker_store import (
    StrictTrackerStore,
    TrackerUnavailable,
    TurnNotSaved,
    install_strict_wrapper,
)

APOLOGY = "Sorry, try again"


class BrokenStore(InMemoryTrackerStore):
    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        raise ConnectionError("the database is restarting")

    async def save(self, tracker: DialogueStateTracker) -> None:
        raise ConnectionError("the database is restarting")


def test_a_failed_read_or_save_raises_instead_of_falling_back() -> None:
    store = StrictTrackerStore(BrokenStore(Domain.empty()))
    with pytest.raises(TrackerUnavailable):  # not None: Rasa would start an empty conversation
        asyncio.run(store.retrieve("s"))
    with pytest.raises(TurnNotSaved):  # not saved in memory while the visitor is told it worked
        asyncio.run(store.save(DialogueStateTracker("s", [])))


def test_rasas_agent_wraps_its_tracker_store_in_the_strict_one() -> None:
    from rasa.core.agent import Agent

    install_strict_wrapper()
    wrapped = Agent._create_tracker_store(InMemoryTrackerStore(Domain.empty()), Domain.empty())
    assert isinstance(wrapped, StrictTrackerStore)


def turn_that_fails_after_replying(error: Exception):  # type: ignore[no-untyped-def]
    async def turn(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Updated: 500 people")
        raise error

    return turn


def test_a_turn_that_could_not_be_saved_gets_only_the_apology() -> None:
    channel = CollectingOutputChannel()
    handle = never_silent(turn_that_fails_after_replying(TurnNotSaved("x")), APOLOGY)
    with pytest.raises(TurnNotSaved):
        asyncio.run(handle(UserMessage("actually we're 500 people", channel, "s")))
    assert [m["text"] for m in channel.messages] == [APOLOGY]


def test_a_failure_after_the_turn_was_saved_keeps_its_replies() -> None:
    # e.g. releasing the Redis lock after the save: the turn stands, so does what it said.
    channel = CollectingOutputChannel()
    handle = never_silent(turn_that_fails_after_replying(ConnectionError("redis")), APOLOGY)
    with pytest.raises(ConnectionError):
        asyncio.run(handle(UserMessage("actually we're 500 people", channel, "s")))
    assert [m["text"] for m in channel.messages] == ["Updated: 500 people"]
