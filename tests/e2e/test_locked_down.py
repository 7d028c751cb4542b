"""Only the channels are public: the Rasa HTTP API needs the token (`python -m bot token`), the
action server needs the shared secret Rasa sends, and every server listens on BIND_HOST only."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.stack import ROOT, Stack

pytestmark = pytest.mark.e2e


def action_call(action: str, sender: str) -> dict:
    return {
        "next_action": action,
        "sender_id": sender,
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": {"text": "what do you know about me?", "intent": {}},
            "events": [],
            "paused": False,
            "active_loop": {},
        },
        "domain": {},
        "version": "3.6.21",
    }


def test_the_rasa_api_needs_the_token(stack: Stack) -> None:
    conversation = stack.conversation()
    assert conversation.reply("hi")
    tracker = f"{stack.rasa_url}/conversations/{conversation.sender}/tracker"
    assert requests.get(tracker, timeout=10).status_code == 401
    assert requests.get(tracker, params={"token": "guess"}, timeout=10).status_code == 401
    assert requests.delete(f"{stack.rasa_url}/model", timeout=10).status_code == 401
    assert requests.put(f"{stack.rasa_url}/model", json={}, timeout=10).status_code == 401
    assert requests.get(f"{stack.rasa_url}/status", timeout=10).status_code == 401
    parse = requests.post(f"{stack.rasa_url}/model/parse", json={"text": "hi"}, timeout=10)
    assert parse.status_code == 401
    # With the token from `python -m bot token` it all works, and the bot still understands.
    token = {"token": stack.token}
    events = requests.get(tracker, params=token, timeout=10).json()["events"]
    assert any(e["event"] == "user" for e in events)
    assert requests.get(f"{stack.rasa_url}/status", params=token, timeout=10).json()["model_file"]
    parsed = requests.post(
        f"{stack.rasa_url}/model/parse", params=token, json={"text": "hi"}, timeout=10
    ).json()
    assert parsed["intent"]["name"] == "greet"
    # The public channel needs nothing.
    assert stack.conversation().reply("hello")


def test_the_action_server_refuses_calls_without_the_shared_secret(stack: Stack) -> None:
    sender = f"e2e-{uuid.uuid4().hex}"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        for action in ("action_show_my_data", "action_forget_me", "validate_lead_form"):
            refused = requests.post(
                f"{stack.action_url}/webhook",
                json=action_call(action, sender),
                headers=headers,
                timeout=10,
            )
            assert refused.status_code == 401, (action, headers)
            assert refused.json() == {"error": "unauthorized"}
        assert requests.get(f"{stack.action_url}/actions", headers=headers).status_code == 401
    token = (Path(stack.env["ACTION_SERVER_TOKEN_FILE"])).read_text().strip()
    accepted = requests.post(
        f"{stack.action_url}/webhook",
        json=action_call("action_show_my_data", sender),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert accepted.status_code == 200 and "events" in accepted.json()
    # ... which is what Rasa does on every turn: a whole conversation runs through it.
    conversation = stack.conversation()
    assert "consent" in conversation.reply("I'd like a demo").lower() or conversation.buttons


def test_the_endpoints_file_is_private_and_the_token_is_not_on_a_command_line(
    stack: Stack,
) -> None:
    endpoints = next((ROOT / ".run").glob(f"endpoints-{stack.rasa_url.rsplit(':', 1)[1]}.yml"))
    assert endpoints.stat().st_mode & 0o077 == 0
    assert json.loads(endpoints.read_text())["action_endpoint"]["headers"]["Authorization"]
    commands = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert stack.token not in commands


def test_every_server_listens_on_bind_host_only(stack: Stack) -> None:
    """No server answers on another address of this machine (default BIND_HOST=127.0.0.1)."""
    outside = _non_loopback_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback address to try")
    for url in (stack.rasa_url, stack.action_url, stack.web_url):
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((outside, port)) != 0, url


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("10.255.255.255", 1))
            address = sock.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_python_m_bot_token_prints_the_generated_token(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "token"],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == stack.token and len(stack.token) >= 32
