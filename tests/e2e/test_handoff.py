"""Live handoff through the real stack: a visitor asks for a person, the rep is emailed (a real
SMTP server) and told on Slack (a local receiver that checks the Block Kit shape like Slack
does), takes over from the inbox, both write, the bot stays silent, and the rep hands back;
nobody taking over in time; outside working hours. The visitor's side is what the widget uses:
the chat channel, and the long-poll on the web process."""

from __future__ import annotations

import re
import time
from typing import Any, Dict, List

import pytest
import requests
from sqlalchemy import select

from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import Handoff
from tests.conftest import HANDOFF_REP_PASSWORD, HANDOFF_WAIT_SECONDS
from tests.e2e.stack import Conversation, Stack

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://[^\s]+/inbox/handoffs/([a-f0-9]{24})")


class Widget:
    """The widget's long-poll, as widget.js does it."""

    def __init__(self, stack: Stack, sender: str) -> None:
        self.stack, self.sender = stack, sender
        first = self._get(None)
        self.cursor = first["cursor"]
        self.state = first["state"]

    def _get(self, after: int | None) -> Dict[str, Any]:
        params: Dict[str, Any] = {"sender": self.sender}
        if after is not None:
            params["after"] = after
        response = requests.get(
            f"{self.stack.web_url}/webhooks/widget/events", params=params, timeout=40
        )
        response.raise_for_status()
        return response.json()

    def poll(self) -> List[Dict[str, Any]]:
        body = self._get(self.cursor)
        self.cursor, self.state = body["cursor"], body["state"]
        return body["messages"]

    def until(self, text: str, timeout: float = 60) -> List[Dict[str, Any]]:
        """Everything received until a message containing `text`."""
        got: List[Dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got.extend(self.poll())
            if any(text in m.get("text", "") for m in got):
                return got
        raise AssertionError(f"no {text!r} within {timeout}s; got {got}")


class Rep:
    """A rep's browser: signed in to the inbox, posting forms with the session's CSRF token."""

    def __init__(self, stack: Stack, email: str) -> None:
        self.stack, self.http = stack, requests.Session()
        login = self.http.get(f"{stack.web_url}/inbox/login", timeout=30)
        signed_in = self.http.post(
            f"{stack.web_url}/inbox/login",
            data={
                "email": email,
                "password": HANDOFF_REP_PASSWORD,
                "csrf": csrf(login.text),
                "next": "/inbox/handoffs",
            },
            timeout=30,
        )
        assert signed_in.status_code == 200 and signed_in.url.endswith("/inbox/handoffs")
        self.csrf = csrf(signed_in.text)

    def get(self, path: str) -> requests.Response:
        return self.http.get(f"{self.stack.web_url}{path}", timeout=30, allow_redirects=False)

    def post(self, path: str, **form: str) -> requests.Response:
        return self.http.post(
            f"{self.stack.web_url}{path}",
            data={"csrf": self.csrf, **form},
            allow_redirects=False,
            timeout=60,
        )


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form has no CSRF token"
    return found.group(1)


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_a_rep_takes_over_chats_and_hands_back(handoff_stack: Stack) -> None:
    stack = handoff_stack
    chat: Conversation = stack.conversation({"timezone": "Europe/Berlin"})
    assert "store your answers" in chat.reply("I'd like to book a demo")
    chat.reply("yes, that's fine")
    chat.reply("no thanks")
    chat.reply("Jane Doe")
    assert "role" in chat.reply("jane@acme-corp.com")

    asked = chat.say("can I talk to a real person please")
    assert "Hana Always" in texts(asked) and "join this chat" in texts(asked)
    assert {"handoff": "waiting"} in [m.get("custom") for m in asked]  # the widget starts polling
    widget = Widget(stack, chat.sender)
    assert widget.state == "waiting"

    # The rep is told at once: an email with the answers, and Slack with a button to the chat.
    # This visitor's request (other tests on this stack asked Hana too).
    mail = stack.mail.wait_for(
        lambda m: "hana@example.com" in str(m["To"]) and "Jane Doe" in str(m["Subject"])
    )
    body = mail.get_content()
    assert mail["Subject"].startswith("A visitor is waiting for a person")
    assert "Jane Doe" in mail["Subject"] and "jane@acme-corp.com" in str(mail["Reply-To"])
    public_id = LINK.search(body).group(1)
    assert chat.sender not in body  # links carry an opaque id, never the conversation id
    slack = stack.slack.wait_for(lambda m: public_id in m["text"])
    button = slack["blocks"][2]["elements"][0]
    assert button["url"].endswith(f"/inbox/handoffs/{public_id}")
    assert "Jane Doe" in slack["blocks"][1]["text"]["text"]

    # The queue shows them waiting; the conversation page shows the transcript.
    hana, olaf = Rep(stack, "hana@example.com"), Rep(stack, "olaf@example.com")
    conversation = f"/inbox/handoffs/{public_id}"
    queue = hana.get("/inbox/handoffs")
    assert queue.status_code == 200 and "Jane Doe" in queue.text and "Waiting" in queue.text
    stranger = requests.get(f"{stack.web_url}/inbox/handoffs", allow_redirects=False, timeout=10)
    assert stranger.status_code == 303 and "/inbox/login" in stranger.headers["Location"]
    page = hana.get(conversation)
    assert "can I talk to a real person please" in page.text and "Take over" in page.text
    assert hana.post(f"{conversation}/take", csrf="forged").status_code == 403
    assert hana.get(f"{conversation}/events.json").json()["state"] == "waiting"  # not taken

    assert hana.post(f"{conversation}/take").status_code == 303
    assert "Hana Always from our sales team has joined the chat" in texts(widget.until("joined"))
    assert widget.state == "live"
    assert olaf.post(f"{conversation}/take").status_code == 409  # a second rep is too late

    # The visitor writes: the bot stays silent (no reply, no apology), the rep sees it.
    assert chat.say("hello, is that a real person?") == []
    events = hana.get(f"{conversation}/events.json").json()
    assert "hello, is that a real person?" in [line["text"] for line in events["lines"]]

    assert olaf.post(f"{conversation}/message", text="me too").status_code == 409  # not his
    sent = hana.post(f"{conversation}/message", text="Hi Jane, Hana here. <b>hi</b>")
    assert sent.status_code == 303
    received = widget.until("Hana here")
    assert received[-1] == {"text": "Hi Jane, Hana here. <b>hi</b>", "rep_name": "Hana Always"}
    assert chat.say("great, what does it cost for 50 people?") == []

    # The transcript (the tracker) keeps both sides, the rep's message with their name.
    tracker = stack.tracker_events(chat.sender)
    rep_events = [
        e for e in tracker if e["event"] == "bot" and (e.get("metadata") or {}).get("rep")
    ]
    assert [e["text"] for e in rep_events] == ["Hi Jane, Hana here. <b>hi</b>"]
    assert rep_events[0]["metadata"]["rep"] == "hana@example.com"
    user_texts = [e.get("text") for e in tracker if e["event"] == "user"]
    assert "great, what does it cost for 50 people?" in user_texts

    # Handing back: the bot speaks again and the interrupted questions carry on.
    assert hana.post(f"{conversation}/return").status_code == 303
    back = texts(widget.until("role"))
    assert "Hana Always has left the chat" in back and "Welcome back" in back
    assert widget.state == "returned"
    assert "company" in chat.reply("VP of Marketing")
    lead = chat.lead()
    assert lead["needs_human"] is True and lead["role"]


def test_nobody_takes_over_in_time_and_a_message_is_passed_on(handoff_stack: Stack) -> None:
    stack = handoff_stack
    chat = stack.conversation({"timezone": "Europe/London"})
    asked = chat.reply("I want to talk to a human")
    assert "join this chat" in asked
    widget = Widget(stack, chat.sender)
    started = time.monotonic()
    said = widget.until("nobody from our sales team could join", timeout=HANDOFF_WAIT_SECONDS + 30)
    assert time.monotonic() - started >= HANDOFF_WAIT_SECONDS - 3
    assert [b["title"] for b in said[-1]["buttons"]] == ["Book a call", "Leave a message"]
    assert widget.state == "missed"
    # The same words are in the transcript, said by the bot.
    assert any(
        "could join" in (e.get("text") or "")
        for e in stack.tracker_events(chat.sender)
        if e["event"] == "bot"
    )

    assert "What would you like to tell" in chat.reply("/leave_message")
    done = chat.reply("Please call me back tomorrow on +44 20 7946 0000, Tom")
    assert "passed your message on to Hana Always" in done
    message = stack.mail.wait_for(lambda m: "+44 20 7946 0000" in m.get_content())
    assert message["Subject"].startswith("Message from the website chat")
    assert "hana@example.com" in str(message["To"])
    # The bot is itself again.
    assert "$49" in chat.reply("how much does it cost?")


def test_outside_working_hours_the_visitor_is_told_at_once(handoff_stack: Stack) -> None:
    stack = handoff_stack
    chat = stack.conversation({"timezone": "Antarctica/Troll"})
    answer = chat.say("can I speak to a real person")
    assert "outside working hours" in texts(answer)
    assert [b["title"] for b in chat.buttons] == ["Book a call", "Leave a message"]
    slack = stack.slack.wait_for(
        lambda m: m["blocks"][0]["text"]["text"] == "Asked for a person outside working hours"
    )
    assert "Olaf Offline" in str(slack["blocks"][1])
    assert "store your answers" in chat.click("Book a call")  # the booking flow starts


def test_after_failing_to_help_the_bot_offers_a_person(handoff_stack: Stack) -> None:
    """Not only when asked: the bot that keeps failing to help offers a person itself, and
    the offer is a real handoff."""
    stack = handoff_stack
    chat = stack.conversation({"timezone": "Europe/Berlin"})
    replies = [chat.reply("what's the weather in Lima tomorrow?") for _ in range(3)]
    assert "going round in circles" in replies[2] and "person" in replies[2]
    asked = chat.click("Talk to a person")
    assert "Hana Always" in asked and "join this chat" in asked
    assert Widget(stack, chat.sender).state == "waiting"
    engine = make_engine(stack.env["DATABASE_URL"])
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            public_id = session.execute(
                select(Handoff.public_id).where(Handoff.conversation_id == chat.sender)
            ).scalar_one()
    finally:
        engine.dispose()
    slack = stack.slack.wait_for(lambda m: public_id in m["text"])  # the rep is told at once
    assert slack["blocks"][0]["text"]["text"] == "A visitor is waiting for a person in the chat"
    hana = Rep(stack, "hana@example.com")
    assert hana.post(f"/inbox/handoffs/{public_id}/close").status_code == 303
