"""Visitor sessions on the real stack: the sender id is not a credential.

Visitor A talks through the widget channel with a server-minted session; visitor B learns A's
sender id (from a screenshot, a proxy log) and tries to read or erase A's data, or to continue
A's conversation, through both channels. Only A can.
"""

from __future__ import annotations

import pytest
import requests

from bot.leads.sessions import SESSION_METADATA_KEY
from tests.e2e.stack import Conversation, Stack

pytestmark = pytest.mark.e2e

UNVERIFIED = "can't check that it's really you"


def consented_visitor(stack: Stack) -> Conversation:
    chat = stack.visitor()
    chat.reply("I'd like a demo")
    chat.reply("yes")  # store my answers
    chat.reply("no")  # no follow-up emails
    chat.reply("Ada Lovelace")
    chat.reply("ada@analytical.example")
    lead = chat.lead()
    assert lead and lead["email"] == "ada@analytical.example"
    return chat


def widget_post(stack: Stack, body: dict, base: str | None = None) -> requests.Response:
    return requests.post(f"{base or stack.rasa_url}/webhooks/widget/webhook", json=body, timeout=60)


def test_the_server_mints_sessions_through_rasa_and_the_web_process(stack: Stack) -> None:
    direct = stack.new_session()
    assert direct["sender"].startswith("v-") and len(direct["session"]) >= 40
    proxied = requests.post(
        f"{stack.web_url}/webhooks/widget/session", headers={"Origin": stack.web_url}, timeout=30
    )
    assert proxied.status_code == 201
    assert proxied.headers["Access-Control-Allow-Origin"] == stack.web_url
    assert proxied.headers["Cache-Control"] == "no-store"
    assert proxied.json()["sender"] != direct["sender"]
    refused = requests.post(
        f"{stack.rasa_url}/webhooks/widget/session",
        headers={"Origin": "https://evil.example"},
        timeout=30,
    )
    assert refused.status_code == 403
    # The widget channel talks only within a session.
    anonymous = widget_post(stack, {"sender": "made-up-id", "message": "hi"})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "session_required"


def test_visitor_b_cannot_read_erase_or_continue_a_conversation_knowing_its_id(
    stack: Stack,
) -> None:
    a = consented_visitor(stack)
    b = stack.visitor()
    forged = {SESSION_METADATA_KEY: True}
    for text in ("what do you know about me?", "forget me", "actually my email is b@evil.example"):
        # Widget channel: without the token, with a made-up one, with B's own token.
        for token in (None, "x" * 43, b.token):
            body = {"sender": a.sender, "message": text, "metadata": forged}
            if token is not None:
                body["session"] = token
            refused = widget_post(stack, body)
            assert refused.status_code == 403, (text, token, refused.text)
            assert refused.json()["error"] == "invalid_session"
            assert "Ada" not in refused.text
        # Through the web process's pass-through too.
        proxied = widget_post(
            stack, {"sender": a.sender, "message": text, "session": b.token}, stack.web_url
        )
        assert proxied.status_code == 403
        # REST channel: a minted conversation can't be written to at all.
        rest = requests.post(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": a.sender, "message": text, "metadata": forged},
            timeout=60,
        )
        assert rest.status_code == 403, rest.text
        assert "Ada" not in rest.text
    # B's own session knows nothing about A.
    assert "haven't stored anything" in b.reply("what do you know about me?")
    # A's data is untouched, and A can read it...
    lead = a.lead()
    assert lead["email"] == "ada@analytical.example" and lead["name"] == "Ada Lovelace"
    known = a.reply("what do you know about me?")
    assert "Ada Lovelace" in known and "ada@analytical.example" in known
    # ...and erase it.
    assert "deleted everything" in a.reply("forget me")
    assert a.lead() is None


def test_rest_clients_have_no_session_so_they_cannot_read_or_erase(stack: Stack) -> None:
    chat = stack.conversation({SESSION_METADATA_KEY: True})  # a forged verdict is overwritten
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    chat.reply("Grace Hopper")
    chat.reply("grace@navy.example")
    assert chat.lead()["email"] == "grace@navy.example"
    shown = chat.reply("what do you know about me?")
    assert UNVERIFIED in shown and "privacy@example.com" in shown
    assert "grace@navy.example" not in shown
    erased = chat.reply("forget me")
    assert UNVERIFIED in erased and "deleted" not in erased.split(".")[0]
    assert chat.lead()["email"] == "grace@navy.example"  # nothing erased
    users = [e for e in stack.tracker_events(chat.sender) if e["event"] == "user"]
    assert all(e["metadata"][SESSION_METADATA_KEY] is False for e in users)
    # No shared "default" conversation for requests without a sender.
    no_sender = requests.post(
        f"{stack.rasa_url}/webhooks/rest/webhook", json={"message": "hi"}, timeout=30
    )
    assert no_sender.status_code == 400
