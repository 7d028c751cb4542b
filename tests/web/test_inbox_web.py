"""The reps' inbox, calendar feeds, invites and unsubscribe, over real HTTP.

The data is made through the real services (LeadStore, BookingService, NurtureService) on a
migrated SQLite database; the transcript comes from a tracker database with Rasa's `events`
table; the app is `bot.web.create_app` with this module mounted through its hook.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import AsyncIterator, Dict

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine, select, text

from bot.booking.feeds import rep_feed_token
from bot.booking.ics import unfold
from bot.booking.reps import load_reps
from bot.booking.service import Booked, BookingService
from bot.config.settings import PROJECT_ROOT, Settings
from bot.leads.store import LeadStore
from bot.nurture.service import EnrollResult, NurtureService, load_nurture
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.migrate import upgrade
from bot.storage.models import Lead, NurtureEnrollment
from bot.web import context as web_context
from bot.web.app import create_app
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead

REPS = load_reps(PROJECT_ROOT / "config" / "reps.yml")
NURTURE = load_nurture(PROJECT_ROOT / "config" / "nurture.yml")
TOKEN = "inbox-token-for-tests"
SECRET = "feed-secret-for-tests"
XSS = "<script>alert(1)</script>"
BASE = "https://leads.example.test"

CONSENT_VERSION = "2026-11-01"


@dataclass
class World:
    database_url: str
    tracker_url: str
    tmp_path: Path
    clock: Clock
    booked: Booked
    unsubscribe_token: str

    def settings(self, **overrides: str) -> Settings:
        env: Dict[str, str] = {
            "DATABASE_URL": self.database_url,
            "TRACKER_STORE_URL": self.tracker_url,
            "INBOX_TOKEN": TOKEN,
            "SECRET_KEY": SECRET,
            "SECRET_KEY_FILE": str(self.tmp_path / "secret_key"),
            "PUBLIC_BASE_URL": BASE,
        }
        env.update(overrides)
        return Settings.from_env(env)

    def enrollment(self) -> NurtureEnrollment:
        with unit_of_work(make_session_factory(make_engine(self.database_url))) as session:
            return session.execute(
                select(NurtureEnrollment).where(
                    NurtureEnrollment.unsubscribe_token == self.unsubscribe_token
                )
            ).scalar_one()

    def lead(self, conversation_id: str) -> Lead:
        with unit_of_work(make_session_factory(make_engine(self.database_url))) as session:
            return session.execute(
                select(Lead).where(Lead.conversation_id == conversation_id)
            ).scalar_one()


def make_tracker(url: str) -> None:
    """Rasa's SQL tracker store table, with a short conversation for c1 and one for someone else."""
    engine = create_engine(url, future=True)
    rows = [
        ("c1", "action", 1764000000.0, {"event": "action", "name": "action_listen"}),
        ("c1", "user", 1764000001.0, {"event": "user", "text": "hi there, pricing please"}),
        ("c1", "bot", 1764000002.0, {"event": "bot", "text": "Happy to help! What's your name?"}),
        ("c1", "slot", 1764000003.0, {"event": "slot", "name": "name", "value": "Jane"}),
        ("c1", "user", 1764000004.0, {"event": "user", "text": "<img src=x onerror=alert(2)>"}),
        ("other", "user", 1764000005.0, {"event": "user", "text": "someone else's message"}),
    ]
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, "
                "timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
            )
        )
        for sender, kind, stamp, event in rows:
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) "
                    "VALUES (:sender, :kind, :stamp, :data)"
                ),
                {
                    "sender": sender,
                    "kind": kind,
                    "stamp": stamp,
                    "data": json.dumps({**event, "timestamp": stamp}),
                },
            )
    engine.dispose()


@pytest.fixture
def world(tmp_path: Path) -> World:
    database_url = f"sqlite:///{tmp_path / 'leadbot.db'}"
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    upgrade(database_url)
    make_tracker(tracker_url)
    clock = Clock()
    engine = make_engine(database_url)
    store = LeadStore(engine)
    make_lead(store, "c1")
    store.request_human("c1")
    make_lead(store, "xss", name=XSS, email="x@acme.test")
    make_lead(store, "n1", nurture=True, name="Nora Nurture", tier="marketing_qualified", score=40)
    booking = BookingService(engine, REPS, clock, PublicUrls(BASE))
    offer = booking.offer("c1", "America/Chicago")
    booked = booking.book("c1", offer.rep.email, offer.slots[0], "America/Chicago")
    assert isinstance(booked, Booked)
    nurture = NurtureService(
        engine, NURTURE, clock, PublicUrls(BASE), consent_version=CONSENT_VERSION
    )
    assert nurture.enroll("n1") is EnrollResult.ENROLLED
    with unit_of_work(make_session_factory(engine)) as session:
        token = session.execute(select(NurtureEnrollment.unsubscribe_token)).scalar_one()
    engine.dispose()
    return World(database_url, tracker_url, tmp_path, clock, booked, token)


async def client_for(world: World, settings: Settings) -> TestClient:
    app = create_app(settings)
    app[web_context.CLOCK_KEY] = world.clock
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def client(world: World) -> AsyncIterator[TestClient]:
    client = await client_for(world, world.settings())
    yield client
    await client.close()


def assert_private_html(response) -> None:  # type: ignore[no-untyped-def]
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp


# -- access -----------------------------------------------------------------------------------


async def test_inbox_is_disabled_without_a_token(world: World) -> None:
    client = await client_for(world, world.settings(INBOX_TOKEN=""))
    try:
        for path in ("/inbox", f"/inbox?token={TOKEN}", "/inbox/leads/c1?token=x"):
            response = await client.get(path)
            assert response.status == 404
            assert "INBOX_TOKEN" in await response.text()
        response = await client.get("/inbox/leads.json", headers={"Authorization": "Bearer x"})
        assert response.status == 404 and (await response.json())["error"] == "inbox_disabled"
        assert (await client.get("/inbox/leads.csv?token=")).status == 404
    finally:
        await client.close()


async def test_a_wrong_or_missing_token_is_refused(client: TestClient) -> None:
    for path in ("/inbox", "/inbox?token=wrong", "/inbox/leads/c1?token=wrong"):
        response = await client.get(path)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        body = await response.text()
        assert "Jane" not in body
        assert_private_html(response)
    wrong = {"Authorization": "Bearer wrong"}
    for path in ("/inbox/leads.json", "/inbox/leads.csv"):
        response = await client.get(path, headers=wrong)
        assert response.status == 401 and "jane@acme.test" not in await response.text()


# -- the inbox page ---------------------------------------------------------------------------


async def test_inbox_shows_meetings_leads_breakdown_and_feeds(
    client: TestClient, world: World
) -> None:
    response = await client.get(f"/inbox?token={TOKEN}")
    assert response.status == 200
    assert_private_html(response)
    body = await response.text()
    assert "<script" not in body.lower()
    # The meeting: rep's zone and UTC, the rep, the lead.
    meeting = world.booked.meeting
    rep = REPS.rep(meeting.rep_email)
    assert "Upcoming meetings" in body and rep.name in body
    from bot.booking.availability import format_slot

    assert format_slot(meeting.start_utc, rep.timezone) in body
    assert format_slot(meeting.start_utc, None) in body  # "... (UTC)"
    assert format_slot(meeting.start_utc, "America/Chicago") in body  # the visitor's time
    # The leads: answers, score breakdown, source, needs-human flag, transcript link.
    assert "Jane Doe" in body and "Nora Nurture" in body and "jane@acme.test" in body
    assert "seniority.vp" in body and "vp role" in body and "+25" in body
    assert "85/100" in body and "sales qualified" in body and "meeting booked" in body
    # "Understood as" is worded as the visitor reads it back ("what do you know about me?").
    assert "about 450" in body and "450 people" in body
    assert "https://example.test/pricing" in body
    assert "asked for a person" in body
    assert f'href="/inbox/leads/c1?token={TOKEN}"' in body
    # Every rep's feed URL, from PUBLIC_BASE_URL and the HMAC token.
    for each in REPS.reps:
        assert f"{BASE}/reps/{rep_feed_token(SECRET.encode(), each.email)}.ics" in body


async def test_visitor_markup_is_escaped(client: TestClient) -> None:
    body = await (await client.get(f"/inbox?token={TOKEN}")).text()
    assert XSS not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script" not in body.lower()


async def test_bearer_header_works_and_links_do_not_carry_it(client: TestClient) -> None:
    response = await client.get("/inbox", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    body = await response.text()
    assert "Jane Doe" in body and TOKEN not in body


async def test_the_lead_link_on_the_page_opens_the_transcript(client: TestClient) -> None:
    body = await (await client.get(f"/inbox?token={TOKEN}")).text()
    [link] = set(re.findall(r'href="(/inbox/leads/c1\?[^"]+)"', body))  # meeting + lead
    response = await client.get(link.replace("&amp;", "&"))
    assert response.status == 200
    assert_private_html(response)
    page = await response.text()
    assert "Jane Doe" in page and "vp role" in page
    assert '<li class="visitor">' in page and '<li class="bot">' in page
    assert "hi there, pricing please" in page
    assert "Happy to help! What&#39;s your name?" in page  # escaped, as every value
    assert "&lt;img src=x onerror=alert(2)&gt;" in page and "<img" not in page
    assert "someone else" not in page  # only this conversation
    assert page.index("hi there") < page.index("Happy to help")


async def test_transcript_tolerates_a_missing_tracker_store(world: World) -> None:
    empty = f"sqlite:///{world.tmp_path / 'empty-tracker.db'}"
    create_engine(empty).connect().close()  # the file exists, the table does not
    for url, expected in (
        (empty, "not available"),
        (f"sqlite:///{world.tmp_path / 'missing' / 'tracker.db'}", "No messages"),
    ):
        client = await client_for(world, world.settings(TRACKER_STORE_URL=url))
        try:
            response = await client.get(f"/inbox/leads/c1?token={TOKEN}")
            assert response.status == 200
            page = await response.text()
            assert expected in page and "Jane Doe" in page
        finally:
            await client.close()
    assert not (world.tmp_path / "missing").exists()  # reading never creates the tracker file


async def test_unknown_lead_is_404(client: TestClient) -> None:
    response = await client.get(f"/inbox/leads/other?token={TOKEN}")  # has events, no lead
    assert response.status == 404
    assert "someone else" not in await response.text()


# -- exports ----------------------------------------------------------------------------------


async def test_json_and_csv_exports(client: TestClient) -> None:
    response = await client.get(f"/inbox/leads.json?token={TOKEN}")
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    leads = {lead["conversation_id"]: lead for lead in (await response.json())["leads"]}
    assert set(leads) == {"c1", "xss", "n1"}
    assert leads["c1"]["name"] == "Jane Doe" and leads["c1"]["outcome"] == "meeting_booked"
    assert leads["c1"]["score_breakdown"][0]["reason"] == "vp role"
    assert leads["xss"]["name"] == XSS  # data, not HTML: exported as it is

    response = await client.get("/inbox/leads.csv", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="leads-20261123.csv"' in response.headers["Content-Disposition"]
    rows = {
        row["conversation_id"]: row for row in csv.DictReader(io.StringIO(await response.text()))
    }
    assert rows["c1"]["name"] == "Jane Doe" and rows["c1"]["email"] == "jane@acme.test"
    assert rows["c1"]["outcome"] == "meeting_booked"

    limited = await client.get(f"/inbox/leads.json?token={TOKEN}&limit=1")
    assert len((await limited.json())["leads"]) == 1
    assert (await client.get(f"/inbox/leads.csv?token={TOKEN}&limit=0")).status == 400
    assert (await client.get(f"/inbox/leads.csv?token={TOKEN}&limit=x")).status == 400


# -- calendars --------------------------------------------------------------------------------


async def test_rep_feed_has_the_booked_meeting(client: TestClient, world: World) -> None:
    meeting = world.booked.meeting
    token = rep_feed_token(SECRET.encode(), meeting.rep_email)
    response = await client.get(f"/reps/{token}.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    lines = unfold(await response.text())
    assert lines[0] == "BEGIN:VCALENDAR"
    assert f"DTSTART:{meeting.start_utc:%Y%m%dT%H%M%SZ}" in lines
    assert any("Jane Doe" in line for line in lines if line.startswith("SUMMARY:"))

    other = next(rep for rep in REPS.reps if rep.email != meeting.rep_email)
    response = await client.get(f"/reps/{rep_feed_token(SECRET.encode(), other.email)}.ics")
    assert response.status == 200 and "BEGIN:VEVENT" not in await response.text()

    assert (await client.get(f"/reps/{'0' * 32}.ics")).status == 404
    wrong_key = rep_feed_token(b"another-secret", meeting.rep_email)
    assert (await client.get(f"/reps/{wrong_key}.ics")).status == 404


async def test_invite_ics(client: TestClient, world: World) -> None:
    response = await client.get(f"/invite/{world.booked.ics_token}.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    lines = unfold(await response.text())
    assert lines[0] == "BEGIN:VCALENDAR"
    assert f"DTSTART:{world.booked.meeting.start_utc:%Y%m%dT%H%M%SZ}" in lines
    assert (await client.get("/invite/not-a-real-token.ics")).status == 404


# -- unsubscribe ------------------------------------------------------------------------------


async def test_get_asks_and_post_unsubscribes_idempotently(
    client: TestClient, world: World
) -> None:
    path = f"/unsubscribe/{world.unsubscribe_token}"
    response = await client.get(path)  # what a mail scanner's prefetch does
    assert response.status == 200
    assert_private_html(response)
    page = await response.text()
    assert '<form method="post"' in page and f'action="{path}"' in page
    assert '<button type="submit">Unsubscribe</button>' in page
    assert world.enrollment().status == "active" and world.lead("n1").nurture_consent

    # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click".
    response = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status == 200 and "You're unsubscribed" in unescape(await response.text())
    enrollment = world.enrollment()
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "unsubscribed")
    assert not world.lead("n1").nurture_consent

    again = await client.post(path)
    assert again.status == 200 and "You're unsubscribed" in unescape(await again.text())
    assert world.enrollment().status == "stopped"
    after = unescape(await (await client.get(path)).text())
    assert "You're unsubscribed" in after and "<form" not in after


async def test_unknown_unsubscribe_token_is_a_polite_404(client: TestClient) -> None:
    for method in ("GET", "POST"):
        response = await client.request(method, "/unsubscribe/no-such-token")
        assert response.status == 404
        assert_private_html(response)
        assert "couldn't find a subscription" in unescape(await response.text())
