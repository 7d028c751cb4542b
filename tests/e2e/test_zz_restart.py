"""Runs last (file name), because it restarts the stack: Ctrl-C stops it cleanly, a
conversation survives a restart (the tracker store is SQL, not memory), and a visitor whose
message hits a dead action server is told so instead of getting silence."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.stack import ROOT, Stack, free_port, stop_stack, wait_until_up

pytestmark = pytest.mark.e2e


def restart(stack: Stack, **env: str) -> None:
    assert stop_stack(stack) == 0, stack.log()[-3000:]  # Ctrl-C exits cleanly
    stack.env = {**stack.env, **env}
    stack.process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--no-train"],
        cwd=ROOT,
        env=stack.env,
        stdout=stack.log_path.open("a"),
        stderr=subprocess.STDOUT,
    )
    wait_until_up(stack)


def test_restart_and_a_dead_action_server(stack: Stack) -> None:
    chat = stack.conversation()
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    assert "email" in chat.reply("Kim Park")
    working_actions = stack.env["ACTION_ENDPOINT_URL"]

    restart(stack, ACTION_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}/webhook")
    unavailable = chat.reply("kim@park.dev")
    assert "trouble on my side" in unavailable and "Traceback" not in unavailable

    restart(stack, ACTION_ENDPOINT_URL=working_actions)
    assert "role" in chat.reply("kim@park.dev")  # the form remembered where it was
    assert chat.lead()["name"] == "Kim Park"
