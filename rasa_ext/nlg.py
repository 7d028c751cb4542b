"""The domain's responses, with two rules of ours.

Every response the bot says — from rules, forms and the action server alike — is rendered
here:

- A question asked again after an unusable answer: the form utters `utter_ask_<slot>` itself
  (no action-server call); when the form's validation named a re-ask for it in this turn
  (slot `reask_response`), that response is rendered instead
  (`bot.conversation.dialogue.said_instead`). Its name goes with the message's metadata
  (`reask_response`), so analytics count a re-ask, not a question.
- No message gets the same reply three times running: when a reply would be identical to the
  bot's replies to each of the two messages before, the visitor is offered other ways forward
  instead (`utter_going_in_circles`; `bot.conversation.dialogue.would_repeat_third_time`).

Values from the settings that responses name (the privacy policy's URL, the consent text's
version) are filled in here, so the responses that use them need no action.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config.settings import Settings
from bot.conversation.dialogue import (
    GOING_IN_CIRCLES,
    REASK_RESPONSE_SLOT,
    replies_by_turn,
    said_instead,
    would_repeat_third_time,
)

# Enough history to see three replies; older events don't matter.
_RECENT_EVENTS = 60


def settings_values(settings: Settings) -> Dict[str, Any]:
    """Template values every response may use, from the settings."""
    return {
        "privacy_policy_url": settings.privacy_policy_url,
        "consent_version": settings.consent_text_version,
    }


class NoRepeatNLG(TemplatedNaturalLanguageGenerator):
    """Loaded by Rasa from the endpoints file: `nlg: {type: rasa_ext.nlg.NoRepeatNLG}`."""

    def __init__(self, endpoint_config: Any = None, domain: Any = None) -> None:
        super().__init__(domain.responses if domain is not None else {})
        self.values = settings_values(Settings.from_env())

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> Dict[str, Any] | None:
        kwargs = {**self.values, **kwargs}
        response = said_instead(utter_action, _set_this_turn(tracker, REASK_RESPONSE_SLOT))
        message = await super().generate(response, tracker, output_channel, **kwargs)
        if message is not None and response != utter_action:
            message[REASK_RESPONSE_SLOT] = response
        if message is None or response == GOING_IN_CIRCLES:
            return message
        if would_repeat_third_time(replies_by_turn(_said(tracker)), message.get("text")):
            other = await super().generate(GOING_IN_CIRCLES, tracker, output_channel, **kwargs)
            return other or message
        return message


def _set_this_turn(tracker: DialogueStateTracker, slot: str) -> str | None:
    """The value `slot` was set to since the visitor's latest message, if it was."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, SlotSet) and event.key == slot:
            return event.value if isinstance(event.value, str) else None
    return None


def _said(tracker: DialogueStateTracker) -> List[Tuple[str, str | None]]:
    events = list(tracker.events)[-_RECENT_EVENTS:]
    said: List[Tuple[str, str | None]] = []
    for event in events:
        if isinstance(event, UserUttered):
            said.append(("user", event.text))
        elif isinstance(event, BotUttered):
            said.append(("bot", event.text))
    return said
