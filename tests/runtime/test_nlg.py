"""rasa_ext/nlg.py with the real domain: a re-ask said in place of the question the form
utters itself, and the settings' values filled into responses."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext.nlg import NoRepeatNLG

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain.yml"))


def tracker(*events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("visitor", list(events), slots=DOMAIN.slots)


async def test_a_reask_named_this_turn_replaces_the_question() -> None:
    nlg = NoRepeatNLG(domain=DOMAIN)
    reasked = [UserUttered("jo at example"), SlotSet("reask_response", "utter_invalid_email_no_at")]
    message = await nlg.generate("utter_ask_email", tracker(*reasked), "rest")
    assert message is not None and message["text"].startswith("An email address needs an @")
    assert message["reask_response"] == "utter_invalid_email_no_at"  # for analytics
    # The next turn (a question in between, say) asks in the question's own words…
    later = await nlg.generate("utter_ask_email", tracker(*reasked, UserUttered("why?")), "rest")
    assert later is not None and later["text"].startswith("What's the best email address")
    assert "reask_response" not in later
    # …and no other question is ever replaced.
    other = await nlg.generate("utter_ask_handoff_message", tracker(*reasked), "rest")
    assert other is not None and other["text"].startswith("What would you like to tell")


async def test_the_typo_suggestion_comes_from_its_slot() -> None:
    nlg = NoRepeatNLG(domain=DOMAIN)
    events = [
        UserUttered("jo@gmial.com"),
        SlotSet("email_suggestion", "jo@gmail.com"),
        SlotSet("reask_response", "utter_invalid_email_typo"),
    ]
    message = await nlg.generate("utter_ask_email", tracker(*events), "rest")
    assert message is not None and message["text"].startswith("Did you mean jo@gmail.com?")
    assert message["buttons"][0]["title"] == "Yes, use jo@gmail.com"


async def test_settings_values_are_filled_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVACY_POLICY_URL", "https://ex.test/privacy")
    monkeypatch.setenv("CONSENT_TEXT_VERSION", "v9")
    nlg = NoRepeatNLG(domain=DOMAIN)
    message = await nlg.generate("utter_ask_consent", tracker(UserUttered("a demo")), "rest")
    assert message is not None
    assert "privacy policy at https://ex.test/privacy (consent text version v9)" in message["text"]
