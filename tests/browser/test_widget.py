"""The website widget in a real Chromium, against the real stack, used the way a visitor uses it:
by role and label (the launcher button, the "Message" textbox, quick-reply buttons)."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.browser.conftest import AXE, CHROMIUM, CHROMIUM_ARGS, ROOT
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

CHAT = "**/webhooks/widget/webhook"
XSS_NAME = "<img src=x onerror=window.__xss=1>"


def bot_texts(page) -> List[str]:
    return page.locator(".msg.bot .bubble").all_inner_texts()


def wait_for_reply(page, before: int, timeout_s: float = 30) -> str:
    """Wait until the bot said something new and stopped typing; return what it said."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator(".msg.bot").count() > before and page.locator(".typing").is_hidden():
            return "\n".join(bot_texts(page)[before:])
        page.wait_for_timeout(50)
    raise AssertionError(f"no reply from the bot in {timeout_s}s: {bot_texts(page)[-3:]}")


def say(page, text: str) -> str:
    before = page.locator(".msg.bot").count()
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")
    return wait_for_reply(page, before)


def click(page, name: str) -> str:
    before = page.locator(".msg.bot").count()
    page.get_by_role("button", name=name, exact=True).click()
    return wait_for_reply(page, before)


def open_chat(page) -> str:
    page.get_by_role("button", name="Open chat").click()
    return wait_for_reply(page, 0)


def sender(page) -> str:
    return page.evaluate("window.Leadbot.sender")


def lead_when(stack: Stack, conversation_id: str, ready, timeout_s: float = 20) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    lead = None
    while time.monotonic() < deadline:
        lead = stack.lead(conversation_id)
        if lead and ready(lead):
            return lead
        time.sleep(0.5)
    raise AssertionError(f"lead not as expected: {lead}")


def test_full_qualification_through_the_widget(stack: Stack, page, screenshots: Path) -> None:
    page.goto(
        f"{stack.web_url}/?utm_source=newsletter&utm_medium=email&utm_campaign=q4-launch",
        wait_until="load",
    )
    page.evaluate(
        """() => {
            window.__firstBotMessage = null;
            window.Leadbot.on("message", (e) => {
                if (window.__firstBotMessage === null) window.__firstBotMessage = e.at;
            });
            window.Leadbot.on("open", () => { window.__openedAt = performance.now(); });
        }"""
    )
    greeting = open_chat(page)
    assert "bot" in greeting and "sales team" in greeting
    timing = page.evaluate(
        "({load: performance.getEntriesByType('navigation')[0].loadEventEnd,"
        " opened: window.__openedAt, first: window.__firstBotMessage})"
    )
    figures = {
        "page_load_to_first_bot_message_ms": round(timing["first"] - timing["load"]),
        "open_to_first_bot_message_ms": round(timing["first"] - timing["opened"]),
        "navigation_start_to_first_bot_message_ms": round(timing["first"]),
    }
    (screenshots.parent / "widget-metrics.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("widget timing:", figures)
    # Focus went into the textbox when the chat opened.
    assert page.evaluate("document.querySelector('leadbot-chat').shadowRoot.activeElement.id") == (
        "lb-input"
    )

    consent = click(page, "I'd like a demo")
    assert "I'd like a demo" in page.locator(".msg.user").last.inner_text()
    assert "store your answers" in consent
    # The consent question links the privacy policy, safely, and nothing is pre-answered.
    policy = page.locator(".msg.bot").last.get_by_role("link", name="/privacy")
    assert policy.get_attribute("href").endswith("/privacy")
    assert policy.get_attribute("rel") == "noopener noreferrer"
    assert policy.get_attribute("target") == "_blank"
    assert stack.lead(sender(page)) is None
    assert "follow-ups" in click(page, "Yes, that's fine")
    assert "your name" in click(page, "Yes, send me follow-ups")
    assert "Yes, send me follow-ups" in page.locator(".msg.user").last.inner_text()
    assert "email" in say(page, "my name is Jane Doe")
    assert "role" in say(page, "Jane.Doe@Acme-Corp.COM")
    assert "company" in say(page, "I'm the VP of Sales")
    assert "how many people" in say(page, "I work at Acme Corp")
    assert "budget" in say(page, "roughly 30 of us")
    assert "when are you hoping" in say(page, "$1,500 per month")
    say(page, "half a year")

    lead = lead_when(stack, sender(page), lambda row: row["timeline_months"] is not None)
    assert {
        key: lead[key]
        for key in ("name", "role", "seniority", "company", "company_size", "budget_usd")
    } == {
        "name": "Jane Doe",
        "role": "VP of Sales",
        "seniority": "vp",
        "company": "Acme Corp",
        "company_size": 30,
        "budget_usd": 18000,
    }
    assert lead["timeline_months"] == 6 and lead["nurture_consent"] is True
    assert lead["email"].lower() == "jane.doe@acme-corp.com"
    source = lead["source"]
    assert source["page_url"].startswith(f"{stack.web_url}/?utm_source=newsletter")
    assert source["utm_source"] == "newsletter" and source["utm_medium"] == "email"
    assert source["utm_campaign"] == "q4-launch"
    assert source["timezone"] == "Europe/Berlin" and source["locale"] == "en-GB"
    page.screenshot(path=str(screenshots / "desktop-conversation.png"))


def test_reload_and_navigation_keep_the_conversation(stack: Stack, page) -> None:
    page.goto(f"{stack.web_url}/")
    open_chat(page)
    click(page, "I'd like a demo")
    click(page, "Yes, that's fine")
    assert "your name" in click(page, "No follow-ups")
    visitor = sender(page)

    page.reload()
    # Open again after the reload, same transcript, same visitor.
    page.get_by_label("Message").wait_for(state="visible")
    assert "store your answers" in "\n".join(bot_texts(page))
    assert "No follow-ups" in page.locator(".msg.user").last.inner_text()
    assert sender(page) == visitor
    assert "email" in say(page, "Ana Souza")

    page.get_by_role("link", name="Pricing", exact=True).click()
    page.wait_for_url("**/pricing")
    assert sender(page) == visitor and "Ana Souza" in page.locator(".msg.user").last.inner_text()
    assert "role" in say(page, "ana@souza.com.br")
    assert lead_when(stack, visitor, lambda row: row["email"] is not None)["name"] == "Ana Souza"
    stored = page.evaluate(
        "JSON.parse(localStorage.getItem(Object.keys(localStorage)"
        ".find(k => k.startsWith('leadbot:'))))"
    )
    assert stored["version"] and stored["sender"] == visitor and stored["pending"] == []


def test_server_down_then_recovery_loses_nothing(stack: Stack, page) -> None:
    page.goto(f"{stack.web_url}/")
    open_chat(page)
    page.route(CHAT, lambda route: route.abort("connectionrefused"))
    box = page.get_by_label("Message")
    box.fill("how much does it cost?")
    box.press("Enter")
    alert = page.get_by_role("alert")
    alert.get_by_text("Can't reach the chat server").wait_for()
    assert page.get_by_role("button", name="Retry").is_visible()
    assert "Not sent yet" in page.locator(".msg.user").last.inner_text()

    # A reload while the server is down keeps the unsent message, and a half-typed one.
    box.fill("and do you integrate with Salesforce")
    page.reload()
    assert "how much does it cost?" in page.locator(".msg.user").last.inner_text()
    assert page.get_by_label("Message").input_value() == "and do you integrate with Salesforce"
    alert.get_by_text("Can't reach the chat server").wait_for()

    page.unroute(CHAT)
    before = page.locator(".msg.bot").count()
    page.get_by_role("button", name="Retry").click()
    assert "$49" in wait_for_reply(page, before)
    assert alert.is_hidden()
    assert "Not sent" not in page.locator(".msg.user").last.inner_text()
    # Delivered exactly once (retries carry the same message id).
    texts = [
        event.get("text")
        for event in stack.tracker_events(sender(page))
        if event["event"] == "user"
    ]
    assert texts.count("how much does it cost?") == 1


def test_slow_server_times_out_visibly_and_retries(stack: Stack, page) -> None:
    page.goto(f"{stack.web_url}/")
    calls = {"n": 0}

    def slow_first(route) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            route.fulfill(status=504, json={"error": "gateway_timeout"})
        else:
            route.continue_()

    page.route(CHAT, slow_first)
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("alert").get_by_text("Retrying in").wait_for()
    wait_for_reply(page, 0)  # the automatic retry (backoff ~1 s) delivered the greeting
    assert calls["n"] >= 2 and page.get_by_role("alert").is_hidden()


def test_html_in_messages_is_shown_never_run(stack: Stack, page) -> None:
    page.goto(f"{stack.web_url}/")
    open_chat(page)
    click(page, "I'd like a demo")
    click(page, "Yes, that's fine")
    click(page, "No follow-ups")
    say(page, XSS_NAME)
    assert XSS_NAME in page.locator(".msg.user").last.inner_text()
    # A bot message with markup and a javascript: link (as a hostile server could send).
    page.route(
        CHAT,
        lambda route: route.fulfill(
            json=[
                {
                    "text": "<b>hi</b> <img src=x onerror=window.__xss=2> javascript:alert(1) "
                    "see https://example.com/docs. or mail sales@example.com",
                    "buttons": [{"title": "<i>ok</i>", "payload": "/affirm"}],
                }
            ]
        ),
    )
    hostile = say(page, "anything")
    assert "<b>hi</b> <img src=x onerror=window.__xss=2>" in hostile
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    shadow_images = page.evaluate(
        "document.querySelector('leadbot-chat').shadowRoot.querySelectorAll('.msg img').length"
    )
    assert shadow_images == 0
    links = page.locator(".msg.bot").last.locator("a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == ["https://example.com/docs", "mailto:sales@example.com"]
    assert page.get_by_role("button", name="<i>ok</i>").is_visible()


def test_keyboard_only(stack: Stack, page) -> None:
    page.goto(f"{stack.web_url}/")
    launcher = page.get_by_role("button", name="Open chat")
    launcher.focus()
    page.keyboard.press("Enter")
    wait_for_reply(page, 0)

    def active() -> str:
        return page.evaluate(
            "(() => { const a = document.querySelector('leadbot-chat').shadowRoot.activeElement;"
            " return a ? (a.id || a.getAttribute('aria-label') || a.textContent) : ''; })()"
        )

    assert active() == "lb-input"
    # Back from the textbox to the quick replies (the last focusable thing in the log).
    page.keyboard.press("Shift+Tab")
    assert active() == "Pricing"
    before = page.locator(".msg.bot").count()
    page.keyboard.press("Enter")
    assert "$49" in wait_for_reply(page, before)
    page.get_by_label("Message").focus()
    page.keyboard.type("are you a bot?")
    before = page.locator(".msg.bot").count()
    page.keyboard.press("Enter")
    assert "bot" in wait_for_reply(page, before)
    page.keyboard.press("Escape")
    assert page.get_by_label("Message").is_hidden()
    assert active() == "Open chat"
    page.keyboard.press("Enter")
    assert active() == "lb-input"


def test_accessibility_audit_has_no_serious_violations(stack: Stack, browser) -> None:
    if not AXE.exists():
        pytest.skip("axe-core not installed: run `npm ci` (make setup does)")
    # axe is injected as a script tag, which the demo page's CSP would block.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{stack.web_url}/")
        open_chat(page)
        click(page, "I'd like a demo")  # the consent question, with its buttons and link
        page.add_script_tag(path=str(AXE))
        results = page.evaluate(
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target).slice(0, 3)})))"
        )
        summary = {"violations": results}
        (ROOT / "reports" / "axe.json").write_text(json.dumps(summary, indent=2) + "\n")
        blocking = [v for v in results if v["impact"] in ("serious", "critical")]
        assert blocking == [], json.dumps(blocking, indent=2)
    finally:
        context.close()


def test_screenshots_desktop_and_phone(stack: Stack, browser, screenshots: Path) -> None:
    for name, viewport in (
        ("desktop", {"width": 1280, "height": 800}),
        ("phone", {"width": 390, "height": 844}),
    ):
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        try:
            page = context.new_page()
            page.goto(f"{stack.web_url}/")
            page.screenshot(path=str(screenshots / f"{name}-closed.png"))
            open_chat(page)
            click(page, "I'd like a demo")
            page.screenshot(path=str(screenshots / f"{name}-open.png"))
            box = page.locator(".panel").bounding_box()
            if name == "phone":  # full screen on a phone
                assert box["width"] == viewport["width"] and box["height"] == viewport["height"]
            else:
                assert box["width"] < 500
        finally:
            context.close()


def test_proactive_rule_opens_on_pricing_after_20_seconds(stack: Stack, page) -> None:
    page.clock.install()
    page.goto(f"{stack.web_url}/")
    page.clock.run_for(25_000)
    assert page.get_by_label("Message").is_hidden()  # only on /pricing
    page.goto(f"{stack.web_url}/pricing")
    page.clock.run_for(10_000)
    assert page.get_by_label("Message").is_hidden()
    page.clock.run_for(11_000)
    page.get_by_label("Message").wait_for(state="visible")


def test_embedded_on_another_site_talks_to_rasa_cross_origin(stack: Stack, browser) -> None:
    """A customer's page on another origin, with data-server pointing at the Rasa server.

    The customer page is served by Playwright (`page.route`), so Chromium doesn't know its
    address and treats it as public; its Local Network Access check would then refuse every
    request to our loopback servers. A real site and a real bot server are both public, so
    that check is switched off for this browser only.
    """
    lna_off = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"],
    )
    try:
        check_cross_origin(stack, lna_off.new_page())
    finally:
        lna_off.close()


def check_cross_origin(stack: Stack, page) -> None:
    site = stack.web_url.replace("127.0.0.1", "localhost")  # allowed by default (CORS)
    html = (
        "<!doctype html><html lang='en'><head><title>Customer</title></head><body>"
        "<main><h1>Customer site</h1></main>"
        f"<script src='{stack.web_url}/widget.js' data-server='{stack.rasa_url}'"
        " data-title='Globex help' data-color='#ffd400' async></script></body></html>"
    )
    page.route(f"{site}/landing", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(f"{site}/landing")
    assert "sales team" in open_chat(page)
    # Light brand colour: the header text turns dark to stay readable.
    assert page.evaluate(
        "getComputedStyle(document.querySelector('leadbot-chat').shadowRoot"
        ".querySelector('header')).color"
    ) == ("rgb(17, 24, 39)")

    # An origin not in ALLOWED_ORIGINS is refused by the browser's CORS check.
    other = stack.web_url.replace("127.0.0.1", "127.0.0.2")
    page.route(f"{other}/landing", lambda r: r.fulfill(body=html, content_type="text/html"))
    page.goto(f"{other}/landing")
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("alert").wait_for()
    assert page.locator(".msg.bot").count() == 0


def test_widget_is_small_and_self_contained() -> None:
    source = (ROOT / "widget" / "widget.js").read_bytes()
    zipped = len(gzip.compress(source, 9))
    print(f"widget.js: {len(source)} bytes raw, {zipped} bytes gzip -9")
    assert len(source) < 60_000 and zipped < 20_000
    text = source.decode()
    assert "innerHTML" not in text and "eval(" not in text and "document.write" not in text
    assert "import " not in text  # no module or third-party fetch


def test_forget_me_leaves_nothing_in_the_browser(stack: Stack, page) -> None:
    """After "forget me", this browser keeps nothing of the conversation either: no transcript,
    no session, no answers in localStorage, and a reload shows an empty chat."""
    page.goto(f"{stack.web_url}/")
    open_chat(page)
    click(page, "I'd like a demo")
    click(page, "Yes, that's fine")
    click(page, "No follow-ups")
    visitor = sender(page)
    assert "email" in say(page, "Fenna Forgetful")
    say(page, "fenna@forgetful-widgets.nl")
    lead = lead_when(stack, visitor, lambda row: row["email"] is not None)
    assert lead["name"] == "Fenna Forgetful"

    def stored_in_browser() -> str:
        return page.evaluate("JSON.stringify(Object.assign({}, localStorage, sessionStorage))")

    assert "forgetful" in stored_in_browser().lower()
    box = page.get_by_label("Message")
    box.fill("forget me")
    box.press("Enter")
    # The widget keeps only the confirmation on screen (the transcript before it is gone).
    page.locator(".msg.bot", has_text="deleted everything").wait_for()
    assert "Fenna" not in " ".join(page.locator(".msg").all_inner_texts())
    page.wait_for_timeout(500)
    assert "forgetful" not in stored_in_browser().lower()
    assert visitor not in stored_in_browser()
    assert stack.lead(visitor) is None

    page.reload()
    page.wait_for_timeout(500)
    transcript = " ".join(page.locator(".msg").all_inner_texts())
    assert "Fenna" not in transcript and "forgetful" not in transcript.lower()
    assert "forgetful" not in stored_in_browser().lower()
