"""The domain's responses, with one guard: no message gets the same reply three times running.

Every response the bot says — from rules, forms and the action server alike — is rendered
here. When a reply would be identical to the bot's replies to each of the two messages before,
the visitor is offered other ways forward instead (`utter_going_in_circles`). The decision is
`bot.conversation.dialogue.would_repeat_third_time`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.conversation.dialogue import GOING_IN_CIRCLES, replies_by_turn, would_repeat_third_time

# Enough history to see three replies; older events don't matter.
_RECENT_EVENTS = 60


class NoRepeatNLG(TemplatedNaturalLanguageGenerator):
    """Loaded by Rasa from the endpoints file: `nlg: {type: rasa_ext.nlg.NoRepeatNLG}`."""

    def __init__(self, endpoint_config: Any = None, domain: Any = None) -> None:
        super().__init__(domain.responses if domain is not None else {})

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> Dict[str, Any] | None:
        message = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if message is None or utter_action == GOING_IN_CIRCLES:
            return message
        if would_repeat_third_time(replies_by_turn(_said(tracker)), message.get("text")):
            other = await super().generate(GOING_IN_CIRCLES, tracker, output_channel, **kwargs)
            return other or message
        return message


def _said(tracker: DialogueStateTracker) -> List[Tuple[str, str | None]]:
    events = list(tracker.events)[-_RECENT_EVENTS:]
    said: List[Tuple[str, str | None]] = []
    for event in events:
        if isinstance(event, UserUttered):
            said.append(("user", event.text))
        elif isinstance(event, BotUttered):
            said.append(("bot", event.text))
    return said
