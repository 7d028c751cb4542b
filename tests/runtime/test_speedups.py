"""rasa_ext/speedups.py keeps Rasa's behaviour: the action server's answers are validated against
the same schema (a malformed one is still refused, with Rasa's message), only faster."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from rasa_ext.speedups import install


def test_action_answers_are_still_validated() -> None:
    install()
    action = RemoteAction("action_x", None)
    good = {
        "events": [{"event": "slot", "name": "name", "value": "Ann"}],
        "responses": [{"response": "utter_greet"}],
    }
    assert action._validate_action_result(good) is True
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": [{"event": "slot"}], "responses": "x"})
