"""The funnel page in a real browser: a rep signs in, opens the funnel over the scripted
conversations of tests/analytics (the web process started as `python -m bot web`, reading a real
tracker database and lead store), the charts render under the page's content-security policy,
and the page is saved as reports/screenshots/funnel.png for the README."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.browser.conftest import AXE, ROOT
from tests.e2e.stack import free_port
from tests.web.test_funnel_web import PASSWORD, PERSONAL, REP_EMAIL, scripted_env


@pytest.fixture
def funnel_web(tmp_path: Path) -> Iterator[str]:
    """The web process over the scripted visitors of the last two days; its base URL."""
    now = datetime.now(timezone.utc)
    day1 = (now - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env: Dict[str, str] = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
        **scripted_env(tmp_path, day1, now),
        "PUBLIC_BASE_URL": base,
        "BIND_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
    }
    log = tmp_path / "web.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the web process did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sign_in_to(page, url: str) -> None:
    page.goto(url, wait_until="load")  # sent to sign in first, and back
    page.get_by_label("Email").fill(REP_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url)


def test_a_rep_opens_the_funnel_and_the_charts_render(
    funnel_web: str, browser, screenshots: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", device_scale_factor=1
    )
    context.set_default_timeout(30_000)
    refused: list = []
    try:
        page = context.new_page()
        # Chromium reports what the content-security policy blocked on the console.
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        sign_in_to(page, f"{funnel_web}/inbox")
        page.get_by_role("link", name="Funnel").click()  # from the inbox's navigation
        page.wait_for_url(f"{funnel_web}/inbox/funnel")
        assert page.get_by_role("heading", name="Funnel", level=1).is_visible()

        for caption in (
            "Conversations reaching each step",
            "Conversations opened, consented and booked per day",
            "Drop-off and re-ask rate per question",
        ):
            chart = page.get_by_role("img", name=caption)  # the SVG, labelled by its caption
            assert chart.is_visible()
            box = chart.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100
        # The bars are drawn in their colours: styles became attributes the policy allows.
        bars = page.locator('svg[aria-labelledby="chart-funnel-caption"] path[fill="#2563eb"]')
        assert bars.count() >= 10
        fill = bars.first.evaluate("bar => getComputedStyle(bar).fill")
        assert fill == "rgb(37, 99, 235)"
        assert refused == [], refused

        steps = page.get_by_role("table", name="Conversations per step")
        opened = steps.get_by_role("row", name="Opened the widget")
        assert opened.get_by_role("cell").all_inner_texts() == ["6", "100 %"]
        body = page.content()
        assert all(personal not in body for personal in PERSONAL)

        page.get_by_label("Period").select_option("7d")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(f"{funnel_web}/inbox/funnel?since=7d")
        assert page.get_by_role("img", name="Conversations reaching each step").is_visible()
        page.screenshot(path=str(screenshots / "funnel.png"), full_page=True)
    finally:
        context.close()


def test_the_funnel_page_passes_an_accessibility_audit(funnel_web: str, browser) -> None:
    if not AXE.exists():
        pytest.skip("axe-core not installed: run `npm ci` (make setup does)")
    # axe is injected as a script tag, which the page's CSP would block.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        sign_in_to(page, f"{funnel_web}/inbox/funnel")
        page.add_script_tag(path=str(AXE))
        results = page.evaluate(
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target).slice(0, 3)})))"
        )
        blocking = [v for v in results if v["impact"] in ("serious", "critical")]
        assert blocking == [], json.dumps(blocking, indent=2)
    finally:
        context.close()
