"""The funnel page (`/inbox/funnel`) over real HTTP: signed-in reps only, the numbers of a known
set of scripted conversations (tests/analytics) read from a real tracker database and lead
store, charts inline under the private pages' content-security policy, nothing personal."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine, text

from bot.accounts.service import Accounts
from bot.config.settings import Settings
from bot.leads.store import LeadStore
from bot.nurture.service import EnrollResult, NurtureService
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade
from bot.web import context as web_context
from bot.web.app import create_app
from bot.web.urls import PublicUrls
from tests.analytics.test_funnel import DAY1, DAY2, scripted
from tests.bot.factories import Clock, make_lead
from tests.web.test_inbox_web import (
    BASE,
    CONSENT_VERSION,
    NURTURE,
    PASSWORD,
    REP_EMAIL,
    assert_private_html,
    sign_in,
)

# The scripted conversations' days are 2026-03-02 and -03; "now" is the end of the second.
NOW = DAY2 + timedelta(hours=12)
# What the scripted visitors typed and who they are: never on the page. (Their answers to the
# questions are "an answer" and "a value": words the page's own help text may use.)
PERSONAL = (
    "x@acme.test",
    "I&#39;d like a demo",
    "I'd like a demo",
    "demo please",
    "hi there",
    "nope",
    "Carl Cold",
    "carl@gmail.com",
    "visitor-",
)


def write_tracker(url: str, conversations: Dict[str, List[Dict[str, Any]]]) -> None:
    """Rasa's SQL tracker store `events` table with these conversations' events."""
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, "
                "timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
            )
        )
        for sender, events in conversations.items():
            for event in events:
                connection.execute(
                    text(
                        "INSERT INTO events (sender_id, type_name, timestamp, data) "
                        "VALUES (:sender, :kind, :stamp, :data)"
                    ),
                    {
                        "sender": sender,
                        "kind": event["event"],
                        "stamp": event["timestamp"],
                        "data": json.dumps(event),
                    },
                )
    engine.dispose()


def scripted_env(tmp_path: Path, day1: datetime = DAY1, now: datetime = NOW) -> Dict[str, str]:
    """The six scripted visitors of tests/analytics (from `day1`) in a tracker store; the cold
    one is a lead (Carl Cold) enrolled in nurture emails, as the lead store would have it; one
    rep account. Returns the settings' environment."""
    database_url = f"sqlite:///{tmp_path / 'leadbot.db'}"
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    upgrade(database_url)
    write_tracker(tracker_url, {f"visitor-{n}": s.events for n, s in scripted(day1).items()})
    clock = Clock(now)
    engine = make_engine(database_url)
    store = LeadStore(engine)
    make_lead(
        store,
        "visitor-cold",
        nurture=True,
        name="Carl Cold",
        email="carl@gmail.com",
        tier="cold",
        score=10,
    )
    nurture = NurtureService(
        engine, NURTURE, clock, PublicUrls(BASE), consent_version=CONSENT_VERSION
    )
    assert nurture.enroll("visitor-cold") is EnrollResult.ENROLLED
    Accounts(engine, clock).set_password(REP_EMAIL, PASSWORD)
    engine.dispose()
    return {
        "DATABASE_URL": database_url,
        "TRACKER_STORE_URL": tracker_url,
        "SECRET_KEY": "funnel-secret-for-tests",
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        "PUBLIC_BASE_URL": BASE,
    }


@pytest.fixture
async def anonymous(tmp_path: Path) -> AsyncIterator[TestClient]:
    app = create_app(Settings.from_env(scripted_env(tmp_path)))
    app[web_context.CLOCK_KEY] = Clock(NOW)
    client = TestClient(TestServer(app), cookie_jar=CookieJar(unsafe=True))
    await client.start_server()
    yield client
    await client.close()


@pytest.fixture
async def client(anonymous: TestClient) -> TestClient:
    assert (await sign_in(anonymous)).status == 303
    return anonymous


def row(page: str, header: str) -> List[str]:
    """The cells of the table row whose header cell is `header` (tags stripped)."""
    found = re.search(
        r'<tr><th scope="row">(?:<[^>]+>)*' + re.escape(header) + r"(?:</[^>]+>)*</th>(.*?)</tr>",
        page,
        re.S,
    )
    assert found, f"no row {header!r}"
    return [
        unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    ]


async def test_strangers_are_sent_to_sign_in(anonymous: TestClient) -> None:
    for path in ("/inbox/funnel", "/inbox/funnel?since=7d"):
        response = await anonymous.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/inbox/login?next=")
        assert "<svg" not in await response.text()


async def test_the_inbox_links_to_the_funnel(client: TestClient) -> None:
    assert 'href="/inbox/funnel"' in await (await client.get("/inbox")).text()


async def test_the_numbers_of_the_scripted_conversations(client: TestClient) -> None:
    response = await client.get("/inbox/funnel")  # last 30 days by default
    assert response.status == 200
    assert_private_html(response)
    page = await response.text()
    # Steps: conversations, share of those opened (tests/analytics/test_funnel.py's figures).
    assert row(page, "Opened the widget") == ["6", "100 %"]
    assert row(page, "Wrote a first message") == ["5", "83 %"]
    assert row(page, "Agreed to store answers") == ["4", "67 %"]
    assert row(page, "Answered: email") == ["4", "67 %"]
    assert row(page, "Answered: budget") == ["2", "33 %"]
    assert row(page, "Sales-qualified") == ["1", "17 %"]
    assert row(page, "Booked a meeting") == ["1", "17 %"]
    assert row(page, "Enrolled in nurture emails") == ["1", "17 %"]  # from the lead store
    # Per day, by the day the widget was opened.
    assert row(page, "2026-03-02")[:3] == ["3", "3", "2"]
    assert row(page, "2026-03-03")[:3] == ["3", "2", "2"]
    # Questions: asked, answered, dropped off, rate, re-asked, rate, asks per conversation.
    assert row(page, "budget") == ["3", "2", "1", "33 %", "0", "0 %", "1.00"]
    assert row(page, "email") == ["4", "4", "0", "0 %", "1", "25 %", "1.25"]
    assert row(page, "company size")[4:6] == ["1", "33 %"]
    # Speed to lead: the hot visitor's first message to the booking, 25 events a second apart.
    assert "<dt>Leads reached</dt><dd>1</dd>" in page
    assert "<dt>Median</dt><dd>25 s</dd>" in page
    assert "<dt>90th percentile</dt><dd>25 s</dd>" in page
    # Breakdowns: opened, consented, sales-qualified, booked.
    assert row(page, "/pricing") == ["1", "1", "1", "1"]
    assert row(page, "/") == ["3", "1", "0", "0"]
    assert row(page, "/blog/post") == ["1", "1", "0", "0"]  # the path only, no query string
    assert row(page, "spring") == ["2", "2", "1", "1"]
    assert row(page, "(none)") == ["4", "2", "0", "0"]


async def test_the_charts_are_inline_svg_the_policy_allows(client: TestClient) -> None:
    response = await client.get("/inbox/funnel")
    page = await response.text()
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert page.count("<svg") == 3 and page.count("</svg>") == 3
    # No inline style anywhere (the policy would drop it), no script.
    assert not re.search(r"<style|\sstyle=|<script", page, re.I)
    for name in ("funnel", "daily", "questions"):
        assert f'aria-labelledby="chart-{name}-caption"' in page
        assert f'id="chart-{name}-caption"' in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids repeat across the charts"
    for ref in re.findall(r'(?:href="#|url\(#)([^")]+)', page):
        assert ref in ids or ref == "main", f"dangling reference #{ref}"


async def test_the_period(client: TestClient) -> None:
    week = await (await client.get("/inbox/funnel?since=7d")).text()
    assert row(week, "Opened the widget")[0] == "6"
    assert '<option value="7d" selected>' in week
    day = await (await client.get("/inbox/funnel?since=12h")).text()  # only the second day
    assert row(day, "Opened the widget")[0] == "3"
    assert '<option value="12h" selected>' in day  # an own span stays chosen
    empty = await client.get("/inbox/funnel?since=1h")
    assert empty.status == 200
    assert row(await empty.text(), "Opened the widget") == ["0", "–"]


@pytest.mark.parametrize(
    "since", ["forever", "0d", "-3d", "30", "9999w", "%00", "<script>alert(1)</script>", "3y"]
)
async def test_a_garbage_period_is_a_clear_400(client: TestClient, since: str) -> None:
    response = await client.get("/inbox/funnel", params={"since": since})
    assert response.status == 400
    body = await response.text()
    assert "That period doesn" in body and ("like 30d" in body or "at most 366d" in body)
    assert "<script>alert" not in body


async def test_nothing_personal_on_the_page(client: TestClient) -> None:
    page = await (await client.get("/inbox/funnel")).text()
    for personal in PERSONAL:
        assert personal not in page
