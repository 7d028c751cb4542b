"""rasa_ext/action_server.py parses a call with ujson and falls back to json: what json accepts
is accepted the same way, what it refuses is still a 400."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rasa_ext.action_server import BadCall, parse_call

CALL = {"next_action": "action_x", "tracker": {"sender_id": "s", "events": [], "slots": {}}}


def request(body: bytes) -> SimpleNamespace:
    return SimpleNamespace(body=body, headers={})


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(CALL).encode(),
        b"\xef\xbb\xbf" + json.dumps(CALL).encode(),  # a BOM: json accepts it, ujson does not
        json.dumps({**CALL, "x": [float("nan"), 2**80, 0.1 + 0.2, "\u00e9 / \u2028"]}).encode(),
    ],
)
def test_calls_json_accepts_are_parsed_as_json_parses_them(body: bytes) -> None:
    text = body.decode("utf-8-sig")
    assert json.dumps(parse_call(request(body))) == json.dumps(json.loads(text))


@pytest.mark.parametrize("body", [b"not json", b'{"a": 1,}', b"[" * 20_000, b'{"a": "\xff"}'])
def test_bad_json_is_still_refused(body: bytes) -> None:
    with pytest.raises(BadCall) as error:
        parse_call(request(body))
    assert (error.value.status, error.value.code) == (400, "invalid_json")
