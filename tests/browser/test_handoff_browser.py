"""Live handoff in two real browsers: a visitor asks for a person in the widget, a rep in a
second browser context takes over from the inbox, they chat both ways, and the rep hands the
chat back to the bot, which carries on with its questions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.browser.test_widget import bot_texts, open_chat, say
from tests.conftest import HANDOFF_REP_PASSWORD
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e


def wait_for_bot_text(page, text: str, timeout_s: float = 40) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(text in message for message in bot_texts(page)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the widget never showed {text!r}: {bot_texts(page)[-4:]}")


def test_a_rep_takes_over_in_a_second_browser_and_hands_back(
    handoff_stack: Stack, browser, screenshots: Path
) -> None:
    visitor_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    rep_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    visitor_context.set_default_timeout(30_000)
    rep_context.set_default_timeout(30_000)
    errors: list = []
    try:
        visitor = visitor_context.new_page()
        visitor.on("pageerror", lambda error: errors.append(str(error)))
        visitor.goto(f"{handoff_stack.web_url}/", wait_until="load")
        open_chat(visitor)
        assert "store your answers" in say(visitor, "I'd like a demo")
        say(visitor, "yes")
        assert "your name" in say(visitor, "no thanks")
        assert "email" in say(visitor, "Bea Browser")
        asked = say(visitor, "can I talk to a real person please")
        assert "Hana Always" in asked and "join this chat" in asked

        rep = rep_context.new_page()
        rep.on("pageerror", lambda error: errors.append(str(error)))
        rep.goto(f"{handoff_stack.web_url}/inbox/handoffs", wait_until="load")
        rep.get_by_label("Email").fill("hana@example.com")  # sent to sign in first
        rep.get_by_label("Password").fill(HANDOFF_REP_PASSWORD)
        rep.get_by_role("button", name="Sign in").click()
        rep.get_by_role("link", name="Bea Browser").first.click()
        rep.get_by_role("button", name="Take over").click()
        wait_for_bot_text(visitor, "Hana Always from our sales team has joined the chat")

        rep.get_by_label("Message to the visitor").fill("Hello Bea, Hana here. How can I help?")
        rep.get_by_role("button", name="Send").click()
        wait_for_bot_text(visitor, "Hello Bea, Hana here")
        person = visitor.locator(".msg.person .author").last
        assert person.inner_text() == "Hana Always"

        before = visitor.locator(".msg.bot").count()
        box = visitor.get_by_label("Message")
        box.fill("Hi Hana! Do you integrate with HubSpot?")
        box.press("Enter")
        rep.locator(
            "ol.transcript li.visitor", has_text="Do you integrate with HubSpot?"
        ).wait_for()
        rep.get_by_label("Message to the visitor").fill("We do, natively. Shall I show you?")
        rep.get_by_role("button", name="Send").click()
        wait_for_bot_text(visitor, "We do, natively")
        # The bot said nothing of its own while Hana had the chat.
        new = bot_texts(visitor)[before:]
        assert all("Hana here" in t or "natively" in t for t in new), new
        visitor.screenshot(path=str(screenshots / "handoff-visitor.png"))
        rep.screenshot(path=str(screenshots / "handoff-rep.png"), full_page=True)

        rep.get_by_role("button", name="Hand back to the assistant").click()
        wait_for_bot_text(visitor, "Welcome back")
        wait_for_bot_text(visitor, "email")
        assert "role" in say(visitor, "bea@browserco.com")
        rep.locator("#handoff-state", has_text="Handed back").wait_for()
    finally:
        visitor_context.close()
        rep_context.close()
    assert errors == [], f"JavaScript errors: {errors}"
