"""Runs last (file name): Ctrl-C stops the stack cleanly, and a conversation continues after a
restart because Rasa's tracker store is SQL, not memory."""

from __future__ import annotations

import pytest

from tests.e2e.stack import Stack, stop_stack, wait_until_up

pytestmark = pytest.mark.e2e


def test_conversation_survives_a_restart(stack: Stack) -> None:
    import subprocess
    import sys

    from tests.e2e.stack import ROOT

    chat = stack.conversation()
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    assert "email" in chat.reply("Kim Park")

    assert stop_stack(stack) == 0, stack.log()[-3000:]
    stack.process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--no-train"],
        cwd=ROOT,
        env=stack.env,
        stdout=stack.log_path.open("a"),
        stderr=subprocess.STDOUT,
    )
    wait_until_up(stack)

    assert "role" in chat.reply("kim@park.dev")  # the form remembered where it was
    assert chat.lead()["name"] == "Kim Park"
