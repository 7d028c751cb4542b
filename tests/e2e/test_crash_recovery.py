"""A crash is not an outage: `kill -9` of the action server in the middle of a conversation.
The launcher restarts it while the Rasa server and the web process keep serving; meanwhile the
visitor gets an apology (never silence), and once it is back the form carries on where it was."""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from tests.e2e.stack import ROOT, Stack

pytestmark = pytest.mark.e2e


def pid_of(stack: Stack, name: str) -> int:
    path = ROOT / ".run" / f"pids-{stack.env['RASA_PORT']}" / f"{name}.pid"
    return int(path.read_text())


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def test_kill_9_of_the_action_server_mid_conversation(stack: Stack) -> None:
    deadline = time.monotonic() + 10  # the URLs are printed once every server answers
    while "Leadbot is ready" not in stack.log():
        assert time.monotonic() < deadline, stack.log()[-3000:]
        time.sleep(0.2)
    chat = stack.conversation()
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    assert "email" in chat.reply("Kim Crash")
    rasa_pid = pid_of(stack, "rasa-server")

    os.kill(pid_of(stack, "action-server"), signal.SIGKILL)
    apology = chat.reply("kim@crash.dev")
    assert "trouble on my side" in apology and "Traceback" not in apology
    assert answers(f"{stack.web_url}/health")  # the others keep serving

    deadline = time.monotonic() + 120
    while not answers(f"{stack.action_url}/health"):
        assert stack.process.poll() is None, stack.log()[-3000:]  # the launcher did not stop
        assert time.monotonic() < deadline, stack.log()[-3000:]
        time.sleep(0.5)
    assert "role" in chat.reply("kim@crash.dev")  # the form remembered where it was
    assert pid_of(stack, "rasa-server") == rasa_pid  # never restarted
    assert "action server exited with code -9" in stack.log()
    assert chat.lead()["email"] == "kim@crash.dev"
