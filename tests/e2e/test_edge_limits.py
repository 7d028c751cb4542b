"""Rate limits that hold: two real Rasa servers (two replicas, as behind HAProxy) sharing
Redis, and the web process passing the widget's requests through. Test clients connect from
127.0.0.2 and other loopback addresses, which are not trusted proxies here (127.0.0.1, where
the web process runs, is): what each of them says in X-Forwarded-For is its own claim."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import requests

from tests.e2e import prestart
from tests.e2e.stack import ROOT, START_TIMEOUT, free_port, rasa_token

pytestmark = pytest.mark.e2e

REST = "/webhooks/rest/webhook"
WIDGET = "/webhooks/widget/webhook"
ADDRESS_LIMIT = 8
NEW_PER_HOUR = 4


def post(
    port: int, path: str, body: Dict[str, Any], source: str, headers: Dict[str, str] | None = None
) -> Tuple[int, Dict[str, str], Any]:
    """POST from the loopback address `source` (a client the servers don't trust)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=60, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = connection.getresponse()
        payload = response.read()
        return response.status, dict(response.getheaders()), json.loads(payload or b"null")
    finally:
        connection.close()


@dataclass
class Replicas:
    processes: List[subprocess.Popen]
    prefix: str  # of the Redis keys, deleted after
    ports: Dict[str, Any] = field(default_factory=dict)


def _stop(replicas: Replicas) -> None:
    for process in replicas.processes:
        process.send_signal(signal.SIGINT)
    for process in replicas.processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(client.scan_iter(match=f"*{replicas.prefix}*"))
    if keys:
        client.delete(*keys)


@prestart.register("replicas", _stop, ahead=2)
def _prepare(tmp_path_factory: pytest.TempPathFactory):
    """Two Rasa servers and a web process; the Rasa servers count limits in one Redis."""
    from bot.config.settings import Settings
    from bot.runtime.model import current_model
    from tests.e2e.test_production_config import _redis_unavailable

    if _redis_unavailable():
        pytest.skip(_redis_unavailable())
    if current_model(Settings.from_env().model_dir) is None:
        pytest.fail("no trained model for the current data: run `make train`")
    tmp = Path(tmp_path_factory.mktemp("edge"))

    def start() -> Replicas:
        ports = [free_port(), free_port()]
        web_port = free_port()
        prefix = f"leadbot-test-{uuid.uuid4().hex}"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite:///{tmp / 'leadbot.db'}",
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}/webhook",  # none: apologies
            LOCK_STORE_URL="redis://127.0.0.1:6379/0",
            EVENT_BROKER_URL="",
            REDIS_URL="redis://127.0.0.1:6379/0",
            REDIS_KEY_PREFIX=prefix,
            TRUSTED_PROXIES="127.0.0.1",
            ADDRESS_RATE_LIMIT=str(ADDRESS_LIMIT),
            ADDRESS_RATE_WINDOW_S="60",
            NEW_CONVERSATIONS_PER_HOUR=str(NEW_PER_HOUR),
            WIDGET_RATE_LIMIT="100",
            PUBLIC_BASE_URL="",
            ALLOWED_ORIGINS="",
            SECRET_KEY_FILE=str(tmp / "secret_key"),
            RASA_AUTH_TOKEN_FILE=str(tmp / "rasa_auth_token"),
            ACTION_SERVER_TOKEN_FILE=str(tmp / "action_server_token"),
            RASA_URL=f"http://127.0.0.1:{ports[0]}",
            WEB_PORT=str(web_port),
        )
        rasa_token(env)  # made once, before the processes read it
        replicas = Replicas([], prefix)
        logs = tmp / "edge.log"
        try:
            with logs.open("w") as log:
                for index, port in enumerate(ports):
                    replicas.processes.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "bot", "serve", "--role", "rasa", "--no-train"],
                            cwd=ROOT,
                            env=dict(
                                env,
                                RASA_PORT=str(port),
                                TRACKER_STORE_URL=f"sqlite:///{tmp / f'tracker{index}.db'}",
                            ),
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
                replicas.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "bot", "serve", "--role", "web"],
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            processes = replicas.processes
            deadline = time.monotonic() + 2 * START_TIMEOUT  # two Rasa servers loading at once
            for port in [*ports, web_port]:
                while True:
                    assert all(p.poll() is None for p in processes), logs.read_text()[-4000:]
                    assert time.monotonic() < deadline, logs.read_text()[-4000:]
                    try:
                        if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                            break
                    except requests.RequestException:
                        pass
                    time.sleep(1)
        except BaseException:
            _stop(replicas)
            raise
        replicas.ports = {"rasa": ports, "web": web_port, "log": logs}
        return replicas

    return start


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory):
    """Two Rasa servers and a web process; the Rasa servers count limits in one Redis
    (started ahead: tests/e2e/prestart.py)."""
    started = prestart.take("replicas", tmp_path_factory)
    try:
        yield started.ports
    finally:
        prestart.stop_later(_stop, started)  # while the next module runs


def chat(sender: str, message: str = "") -> Dict[str, Any]:
    return {"sender": sender, "message": message}


_SESSIONS: Dict[Tuple[int, str], Dict[str, str]] = {}


def body_for(port: int, path: str, name: str) -> Dict[str, Any]:
    """REST: the sender `name`; widget: a visitor session minted once per `name` (the widget
    channel talks only within a session, bot/leads/sessions.py)."""
    if path == REST:
        return chat(name)
    if (port, name) not in _SESSIONS:
        minted = requests.post(f"http://127.0.0.1:{port}/webhooks/widget/session", timeout=30)
        assert minted.status_code == 201, minted.text
        _SESSIONS[(port, name)] = minted.json()
    return {**_SESSIONS[(port, name)], "message": ""}


def test_the_address_limit_holds_across_both_replicas_and_spoofing_doesnt_help(replicas) -> None:
    one, two = replicas["rasa"]
    source = "127.0.0.2"
    statuses = [
        post(port, path, body_for(one, path, f"a-{i % 2}"), source)[0]
        for i, (port, path) in enumerate([(one, REST), (two, WIDGET)] * (ADDRESS_LIMIT // 2))
    ]
    assert statuses == [200] * ADDRESS_LIMIT  # counted together: half on each replica
    for port, path in ((one, REST), (two, REST), (one, WIDGET), (two, WIDGET)):
        status, headers, body = post(port, path, body_for(one, path, "a-0"), source)
        assert status == 429 and body["error"] == "rate_limited", body
        assert 1 <= int(headers["Retry-After"]) <= 60
    # A made-up X-Forwarded-For from an untrusted peer changes nothing.
    for fake in ("203.0.113.77", "198.51.100.1, 10.0.0.1", "127.0.0.1"):
        status, _, body = post(one, REST, chat("a-0"), source, {"X-Forwarded-For": fake})
        assert status == 429, (fake, body)
    # Another address is not affected.
    assert post(two, REST, chat("b-0"), "127.0.0.3")[0] == 200


def test_rotating_sender_ids_hits_the_new_conversation_cap(replicas) -> None:
    one, two = replicas["rasa"]
    source = "127.0.0.4"
    first = f"c-{uuid.uuid4().hex}"
    statuses = [
        post(
            one if i % 2 else two, REST, chat(first if i == 0 else f"c-{uuid.uuid4().hex}"), source
        )[0]
        for i in range(NEW_PER_HOUR)
    ]
    assert statuses == [200] * NEW_PER_HOUR
    # A widget conversation is new when its session is minted: that is refused now.
    status, headers, body = post(one, "/webhooks/widget/session", {}, source)
    assert status == 429 and body["error"] == "too_many_conversations"
    assert int(headers["Retry-After"]) > 60
    # The conversations already started carry on, on either replica.
    assert post(two, REST, chat(first), source)[0] == 200


def test_the_web_process_passes_on_the_visitors_address(replicas) -> None:
    web = replicas["web"]
    # Two visitors of the demo page, both through the web process (itself at 127.0.0.1): each
    # has the whole budget, so the limit counts them, not the web process.
    for source in ("127.0.0.5", "127.0.0.6"):
        visitor = body_for(web, WIDGET, f"w-{source}")
        statuses = [post(web, WIDGET, visitor, source)[0] for _ in range(ADDRESS_LIMIT)]
        assert statuses == [200] * ADDRESS_LIMIT, source
        status, headers, body = post(
            web, WIDGET, visitor, source, {"X-Forwarded-For": "203.0.113.5"}
        )
        assert status == 429 and body["error"] == "rate_limited" and headers["Retry-After"]


SESSION = "/webhooks/widget/session"


def test_minting_sessions_counts_as_new_conversations(replicas) -> None:
    one, two = replicas["rasa"]
    source = "127.0.0.7"
    minted = [post(port, SESSION, {}, source) for port in (one, two) * (NEW_PER_HOUR // 2)]
    assert [status for status, _, _ in minted] == [201] * NEW_PER_HOUR
    # Each minted conversation's first message is not counted as new a second time.
    for _, _, session in minted:
        assert post(two, WIDGET, {**session, "message": ""}, source)[0] == 200
    # The cap is reached: no more sessions, on either replica.
    for port in (one, two):
        status, headers, body = post(port, SESSION, {}, source)
        assert status == 429, body
        assert body["error"] in ("too_many_conversations", "rate_limited"), body
        assert int(headers["Retry-After"]) >= 1


def test_minting_is_refused_with_retry_after_through_the_web_process(replicas) -> None:
    one, web = replicas["rasa"][0], replicas["web"]
    source = "127.0.0.9"
    statuses = [post(web, SESSION, {}, source)[0] for _ in range(NEW_PER_HOUR)]
    assert statuses == [201] * NEW_PER_HOUR
    status, headers, body = post(web, SESSION, {}, source)
    assert status == 429 and body["error"] == "too_many_conversations", body
    assert int(headers["Retry-After"]) > 60
    # The same count as conversations started by a first message: none left for this address.
    status, _, body = post(one, REST, chat(f"m-{uuid.uuid4().hex}"), source)
    assert status == 429 and body["error"] == "too_many_conversations", body
    # Another visitor of the same site is not affected.
    assert post(web, SESSION, {}, "127.0.0.10")[0] == 201
