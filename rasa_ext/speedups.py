"""Per-turn costs removed from Rasa 3.6's server, installed by rasa_ext/rasa_server.py.

Measured under load in reports/profile.md; each change keeps Rasa's behaviour:

- **Action responses are validated with a validator compiled once.** Rasa checks every answer
  of the action server against its JSON schema with `jsonschema.validate`, which first checks
  the *schema itself* against the JSON Schema meta-schema, on every call: 42 % of the Rasa
  server's time during a qualification. The same schema, the same errors, compiled once.
  A valid answer is proven valid per event type: each event is checked against the one
  `oneOf` alternative its `event` constant selects, instead of all 23 (the constants differ,
  so no other alternative can match); anything else goes through the full validator.
- **One HTTP client for the action server.** Rasa makes a new aiohttp session (and a new TCP
  connection) for every action call; the endpoint now keeps one session and reuses its
  connections (same headers, auth and timeout).
- **The action call's body is encoded faster.** Every call sends the whole tracker and the
  domain (~23 KB of JSON that never changes while a model is loaded); `json.dumps` of it was
  5 % of the Rasa server's event loop at 50 visitors. The domain is encoded once per model and
  the rest with ujson (Sanic's dependency; `json.dumps` for anything ujson refuses): the same
  JSON document.
- **The model's graph runs without dask's scheduler on every turn.** Rasa runs its graph (the
  NLU pipeline on each message, the policies on each prediction) with `dask.get`, which
  orders the graph, builds its scheduler state and queues every node anew each time: ~10 % of
  the Rasa server's event loop at 50 visitors. The first run of each graph shape (targets and
  inputs) still goes through dask, recording the order its scheduler ran the nodes in; later
  runs call the same nodes in that same order with dask's own argument handling
  (`dask.core._execute_task`). Same nodes, same order, same results and exceptions.
- **"Is the domain empty?" without building an empty domain.** Rasa asks on every parse
  (`/model/parse` and each message) and answers by building `Domain.from_dict({})` to compare
  with; the empty domain's dictionary is now built once.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any, Callable, Dict, Tuple

logger = logging.getLogger(__name__)

_installed = False


def install() -> None:
    """Patch Rasa's server in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _compile_action_response_schema()
    _reuse_action_server_connections()
    _run_graphs_in_recorded_order()
    _compare_with_one_empty_domain()
    _installed = True


def _compile_action_response_schema() -> None:
    from jsonschema import ValidationError, exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    @functools.lru_cache(maxsize=1)
    def validator() -> Any:
        schema = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(schema)
        cls.check_schema(schema)  # once, as jsonschema.validate does on every call
        return cls(schema)

    @functools.lru_cache(maxsize=1)
    def by_event() -> Tuple[Any, Dict[str, Any]] | None:
        """A valid answer's quick proof: the answer's shape without its events, and one
        validator per event type. An event (`"required": ["event"]`) is valid when exactly one
        of `oneOf`'s alternatives is; each alternative fixes a different `event` constant, so
        that is the one with this event's constant, and no other can be. None when the schema
        is not shaped so (another Rasa version): then only the full validator is used."""
        schema = RemoteAction.action_response_format_spec()
        cls = validators.validator_for(schema)
        try:
            event_schema = schema["properties"]["events"]["items"]
            alternatives = event_schema["oneOf"]
            consts = [alternative["properties"]["event"]["const"] for alternative in alternatives]
        except (KeyError, TypeError):
            return None
        if "event" not in event_schema.get("required", ()) or len(set(consts)) != len(consts):
            return None
        base = {key: value for key, value in event_schema.items() if key != "oneOf"}
        shape = {**schema, "properties": {**schema["properties"], "events": {"type": "array"}}}
        per_event = {
            const: cls({**base, "allOf": [alternative]})
            for const, alternative in zip(consts, alternatives, strict=True)
        }
        return cls(shape), per_event

    def quickly_valid(result: Any) -> bool:
        proof = by_event()
        if proof is None or not isinstance(result, dict):
            return False
        shape, per_event = proof
        if not shape.is_valid(result):
            return False
        for event in result.get("events") or ():
            kind = event.get("event") if isinstance(event, dict) else None
            check = per_event.get(kind) if isinstance(kind, str) else None
            if check is None or not check.is_valid(event):
                return False
        return True

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        if quickly_valid(result):  # valid by the same schema, checked per event type
            return True
        # jsonschema.validate's own error choice, without re-checking the schema.
        error = exceptions.best_match(validator().iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


class _KeptSession:
    """`async with endpoint.session()` that leaves the shared session open."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *_: Any) -> None:
        return None


def _reuse_action_server_connections() -> None:
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    original = EndpointConfig.session

    def session(self: EndpointConfig) -> Any:
        loop = asyncio.get_event_loop()
        kept = getattr(self, "_leadbot_session", None)
        if kept is None or kept.closed or getattr(self, "_leadbot_loop", None) is not loop:
            if self.basic_auth:
                return original(self)  # not used here; Rasa's own behaviour
            kept = aiohttp.ClientSession(
                headers=self.headers,
                json_serialize=encode_action_call,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                # Shorter than the action server's keep-alive (Sanic: 5 s), so a connection is
                # never reused just as the server closes it.
                connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=2),
            )
            self._leadbot_session = kept
            self._leadbot_loop = loop
        return _KeptSession(kept)

    EndpointConfig.session = session  # type: ignore[method-assign]


def _fast_dumps() -> Callable[[Any], str]:
    try:
        import ujson
    except ImportError:  # pragma: no cover - Sanic installs it on CPython/Linux
        return json.dumps

    def dumps(value: Any) -> str:
        try:
            return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)
        except (TypeError, ValueError, OverflowError):  # what json.dumps does, or its error
            return json.dumps(value)

    return dumps


_dumps = _fast_dumps()
# (the domain dict, its JSON): one model's domain at a time. The dict is kept so its id is
# never another object's.
_encoded_domain: Tuple[Any, str] | None = None


def _domain_json(domain: Dict[str, Any]) -> str:
    global _encoded_domain
    cached = _encoded_domain
    if cached is None or cached[0] is not domain:
        cached = (domain, _dumps(domain))
        _encoded_domain = cached
    return cached[1]


def encode_action_call(body: Any) -> str:
    """JSON of an action call (`RemoteAction._action_call_format`): the same document
    `json.dumps` makes, with the domain (`Domain.as_dict()`: one dict per loaded model, not
    changed once loaded) encoded once."""
    domain = body.get("domain") if isinstance(body, dict) else None
    if not isinstance(domain, dict):
        return _dumps(body)
    rest = _dumps({key: value for key, value in body.items() if key != "domain"})
    return f'{rest[:-1]}{"," if len(rest) > 2 else ""}"domain":{_domain_json(domain)}}}'


def _run_graphs_in_recorded_order() -> None:
    import dask
    from dask.callbacks import Callback
    from dask.core import _execute_task, has_tasks
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(
        self: DaskGraphRunner,
        inputs: Dict[str, Any] | None = None,
        targets: list | None = None,
    ) -> Dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        plans = self.__dict__.setdefault("_leadbot_plans", {})
        shape = (tuple(run_targets), tuple(inputs or ()))
        plan = plans.get(shape)
        if plan is None:
            minimal_schema = self._graph_schema.minimal_graph_schema(run_targets)
            graph = self._build_dask_graph(minimal_schema)
        else:
            graph = dict(plan[0])
        if inputs:
            self._add_inputs_to_graph(inputs, graph)
        try:
            if plan is None:
                ran: list = []
                with Callback(pretask=lambda key, *_: ran.append(key)):
                    result = dask.get(graph, run_targets)
                tasks = {key: graph[key] for key in graph if key not in (inputs or {})}
                plans[shape] = (tasks, ran)
                return dict(result)
            cache = {key: value for key, value in graph.items() if not has_tasks(graph, value)}
            for key in plan[1]:
                cache[key] = _execute_task(graph[key], cache)
            return dict(cache[target] for target in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    DaskGraphRunner.run = run  # type: ignore[method-assign]


def _compare_with_one_empty_domain() -> None:
    from rasa.shared.core.domain import Domain

    @functools.lru_cache(maxsize=1)
    def empty() -> Dict[str, Any]:
        return Domain.empty().as_dict()

    def is_empty(self: Domain) -> bool:
        return bool(self.as_dict() == empty())

    Domain.is_empty = is_empty  # type: ignore[method-assign]
