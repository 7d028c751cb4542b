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


def test_graphs_run_the_same_nodes_in_dask_order() -> None:
    """After the first run (through dask, recording its order), a graph runs the same nodes in
    the same order with the same inputs, results and errors, without dask's scheduler."""
    from types import SimpleNamespace

    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    install()
    calls: list = []
    failing: list = []

    def node(name: str, fail: type | None = None):  # a GraphNode returns (name, output)
        def call(*inputs: tuple) -> tuple:
            calls.append(name)
            if fail is not None and failing:
                raise fail("boom")
            return name, [name, *(value for _, value in inputs)]

        return call

    class Runner(DaskGraphRunner):
        def __init__(self, graph: dict, targets: list) -> None:
            self._graph = graph
            self._graph_schema = SimpleNamespace(
                target_names=targets, minimal_graph_schema=lambda _targets: None
            )

        def _build_dask_graph(self, _schema: object) -> dict:
            return dict(self._graph)

    graph = {
        "tokens": (node("tokens"), "__x__"),
        "words": (node("words", ValueError), "tokens"),
        "chars": (node("chars", RuntimeError), "tokens"),
        "both": (node("both"), "words", "chars"),
        "other": (node("other"), "__x__"),
    }
    runner = Runner(graph, ["both", "other"])
    results, orders = [], []
    for x in ("a", "b", "c"):
        calls.clear()
        results.append(runner.run(inputs={"__x__": x}))
        orders.append(list(calls))
    assert orders[0] == orders[1] == orders[2] and sorted(orders[0]) == sorted(graph)
    assert results[2] == {
        "both": ["both", ["words", ["tokens", "c"]], ["chars", ["tokens", "c"]]],
        "other": ["other", "c"],
    }
    assert runner.run(inputs={"__x__": "d"}, targets=["words"]) == {
        "words": ["words", ["tokens", "d"]]
    }
    calls.clear()
    failing.append(True)
    with pytest.raises((ValueError, GraphRunError)) as first:
        runner.run(inputs={"__x__": "e"})
    failed_first = list(calls)
    calls.clear()
    with pytest.raises(first.type):
        runner.run(inputs={"__x__": "f"})
    assert calls == failed_first


def test_a_domain_is_empty_exactly_when_rasa_says_so() -> None:
    from rasa.shared.core.domain import Domain

    install()
    assert Domain.empty().is_empty()
    assert Domain.from_dict({}).is_empty()
    assert not Domain.from_dict({"intents": ["greet"]}).is_empty()
    assert Domain.empty().is_empty()  # asked again, same answer


def test_the_quick_proof_agrees_with_the_full_schema() -> None:
    """Every answer the per-event-type check passes is valid by Rasa's whole schema, and every
    answer the whole schema refuses is still refused, with the same error."""
    from jsonschema import validators

    install()
    schema = RemoteAction.action_response_format_spec()
    full = validators.validator_for(schema)(schema)
    action = RemoteAction("action_x", None)
    answers = [
        {},
        {"events": []},
        {"events": [{"event": "slot", "name": "budget", "value": 5000, "timestamp": None}]},
        {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "x"}]},
        {"events": [{"event": "bot", "text": "hi", "metadata": {}}], "responses": [{}]},
        {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {}}}]},
        {"events": [{"event": "slot", "name": "budget"}]},  # no value
        {"events": [{"event": "slot", "name": 3, "value": 1}]},
        {"events": [{"event": "no_such_event"}]},
        {"events": [{"name": "x"}]},
        {"events": [{"event": 3}]},
        {"events": ["slot"]},
        {"events": None},
        {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": "now"}]},
        {"events": [{"event": "bot", "metadata": "x"}]},
        {"responses": [1]},
        {"responses": None, "events": []},
    ]
    for answer in answers:
        if full.is_valid(answer):
            assert action._validate_action_result(answer) is True, answer
        else:
            with pytest.raises(ValidationError) as error:
                action._validate_action_result(answer)
            expected = __import__("jsonschema").exceptions.best_match(full.iter_errors(answer))
            assert error.value.message.startswith(expected.message), answer
