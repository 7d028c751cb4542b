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


def test_an_action_call_is_the_same_json() -> None:
    import json

    from rasa_ext.speedups import encode_action_call

    domain = {"responses": {"utter_hi": [{"text": 'Hi / héllo \u2028 "there"'}]}, "slots": {}}
    body = {
        "next_action": "action_x",
        "sender_id": "s-1",
        "tracker": {"events": [{"event": "user", "text": "50k €", "confidence": 0.1 + 0.2}]},
        "version": "3.6.21",
        "domain": domain,
    }
    for _ in range(2):  # the domain's JSON is made once, then reused
        assert json.loads(encode_action_call(body)) == body
    domain["slots"] = {"name": {"type": "text"}}  # another model's domain: a new dict
    changed = {**body, "domain": {**domain}}
    assert json.loads(encode_action_call(changed)) == changed
    assert json.loads(encode_action_call({"domain": domain})) == {"domain": domain}
    assert json.loads(encode_action_call({"n": 2**70, "x": None})) == {"n": 2**70, "x": None}
    assert encode_action_call([1, 2]) == "[1,2]"
