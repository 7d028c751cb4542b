"""The reps' inbox (signed-in reps), exports (API key), calendar feeds, invites and
unsubscribe, over real HTTP.

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
from aiohttp import ClientResponse, CookieJar
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import create_engine, select, text

from bot.accounts.service import Accounts
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
BASE = "http://leads.example.test"
REP_EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"

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
    Accounts(engine, clock).set_password(REP_EMAIL, PASSWORD)
    engine.dispose()
    return World(database_url, tracker_url, tmp_path, clock, booked, token)


async def client_for(world: World, settings: Settings) -> TestClient:
    app = create_app(settings)
    app[web_context.CLOCK_KEY] = world.clock
    # unsafe: keep cookies from 127.0.0.1, as a browser does
    client = TestClient(TestServer(app), cookie_jar=CookieJar(unsafe=True))
    await client.start_server()
    return client


def form_csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form has no CSRF token"
    return found.group(1)


async def sign_in(
    client: TestClient, email: str = REP_EMAIL, password: str = PASSWORD, next_: str = ""
) -> ClientResponse:
    """What a rep does: open the sign-in page, fill in the form, submit it."""
    page = await client.get("/inbox/login")
    assert page.status == 200
    return await client.post(
        "/inbox/login",
        data={
            "email": email,
            "password": password,
            "csrf": form_csrf(await page.text()),
            "next": next_,
        },
        allow_redirects=False,
    )


@pytest.fixture
async def anonymous(world: World) -> AsyncIterator[TestClient]:
    client = await client_for(world, world.settings())
    yield client
    await client.close()


@pytest.fixture
async def client(anonymous: TestClient) -> TestClient:
    """A signed-in rep's browser."""
    response = await sign_in(anonymous)
    assert response.status == 303 and response.headers["Location"] == "/inbox"
    return anonymous


def assert_private_html(response) -> None:  # type: ignore[no-untyped-def]
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp


# -- signing in ------------------------------------------------------------------------------


async def test_pages_send_strangers_to_the_sign_in_page(anonymous: TestClient) -> None:
    for path in ("/inbox", f"/inbox?token={TOKEN}", "/inbox/leads/c1"):
        response = await anonymous.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/inbox/login?next=")
        assert "Jane" not in await response.text()
    page = await anonymous.get("/inbox/leads/c1")  # followed: the sign-in form
    assert page.status == 200 and page.url.path == "/inbox/login"
    assert_private_html(page)
    body = await page.text()
    assert '<input type="password" name="password"' in body and "Jane" not in body


async def test_sign_in_sets_a_session_cookie_that_scripts_cannot_read(world: World) -> None:
    for base, secure in ((BASE, False), ("https://leads.example.test", True)):
        client = await client_for(world, world.settings(PUBLIC_BASE_URL=base))
        try:
            # By hand: a Secure cookie would not be sent back over this test's plain HTTP.
            page = await client.get("/inbox/login")
            pair = page.cookies["leadbot_login_csrf"].value
            response = await client.post(
                "/inbox/login",
                data={
                    "email": REP_EMAIL,
                    "password": PASSWORD,
                    "csrf": form_csrf(await page.text()),
                    "next": "/inbox/leads/c1",
                },
                headers={"Cookie": f"leadbot_login_csrf={pair}"},
                allow_redirects=False,
            )
            assert response.status == 303
            assert response.headers["Location"] == "/inbox/leads/c1"  # back where they were
            [cookie] = [
                value
                for value in response.headers.getall("Set-Cookie")
                if value.startswith("leadbot_session=")
            ]
            flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
            assert "httponly" in flags and "samesite=lax" in cookie.lower()
            assert "path=/inbox" in cookie.lower()
            assert ("secure" in flags) is secure
            session = cookie.split(";")[0]
            page = await client.get("/inbox", headers={"Cookie": session})
            assert page.status == 200 and "Jane Doe" in await page.text()
        finally:
            await client.close()


async def test_a_wrong_password_or_unknown_email_is_refused(anonymous: TestClient) -> None:
    for email, password in ((REP_EMAIL, "wrong password!!"), ("nobody@example.com", PASSWORD)):
        response = await sign_in(anonymous, email, password)
        assert response.status == 401
        assert "Wrong email or password." in await response.text()
        assert "leadbot_session" not in response.cookies
        inbox = await anonymous.get("/inbox", allow_redirects=False)
        assert inbox.status == 303  # still signed out


async def test_failed_sign_ins_are_throttled(anonymous: TestClient) -> None:
    for _ in range(5):
        assert (await sign_in(anonymous, REP_EMAIL, "wrong password!!")).status == 401
    response = await sign_in(anonymous)  # even the right password waits now
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in await response.text()


async def test_forms_without_the_csrf_token_are_refused(anonymous: TestClient) -> None:
    data = {"email": REP_EMAIL, "password": PASSWORD}
    response = await anonymous.post("/inbox/login", data=data, allow_redirects=False)
    assert response.status == 403  # no token at all
    await anonymous.get("/inbox/login")  # the cookie half of the pair
    forged = await anonymous.post(
        "/inbox/login", data={**data, "csrf": "x" * 32}, allow_redirects=False
    )
    assert forged.status == 403 and "leadbot_session" not in forged.cookies

    assert (await sign_in(anonymous)).status == 303
    page = await (await anonymous.get("/inbox")).text()
    assert 'action="/inbox/logout"' in page
    refused = await anonymous.post("/inbox/logout", data={"csrf": "forged"})
    assert refused.status == 403
    assert (await anonymous.get("/inbox", allow_redirects=False)).status == 200  # still in
    out = await anonymous.post(
        "/inbox/logout", data={"csrf": form_csrf(page)}, allow_redirects=False
    )
    assert out.status == 303 and out.headers["Location"] == "/inbox/login"
    assert (await anonymous.get("/inbox", allow_redirects=False)).status == 303


async def test_a_session_does_not_survive_a_password_change(
    client: TestClient, world: World
) -> None:
    assert (await client.get("/inbox", allow_redirects=False)).status == 200
    engine = make_engine(world.database_url)
    Accounts(engine, world.clock).set_password(REP_EMAIL, "another long password")
    engine.dispose()
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_exports_need_the_api_key_in_a_header_or_a_session(
    anonymous: TestClient, client: TestClient, world: World
) -> None:
    stranger = await client_for(world, world.settings())
    try:
        for path in ("/inbox/leads.json", "/inbox/leads.csv"):
            for headers, query in (({}, ""), ({"Authorization": "Bearer wrong"}, "")):
                response = await stranger.get(path + query, headers=headers)
                assert response.status == 401 and "jane@acme.test" not in await response.text()
            in_url = await stranger.get(f"{path}?token={TOKEN}")  # never in a URL
            assert in_url.status == 401
            assert "Authorization header" in (await in_url.json())["detail"]
            keyed = await stranger.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert keyed.status == 200 and "jane@acme.test" in await keyed.text()
        # Without INBOX_TOKEN there is no API key at all; signed-in reps still download.
        no_key = await client_for(world, world.settings(INBOX_TOKEN=""))
        try:
            response = await no_key.get("/inbox/leads.json", headers={"Authorization": "Bearer "})
            assert response.status == 401
        finally:
            await no_key.close()
    finally:
        await stranger.close()
    assert (await client.get("/inbox/leads.csv")).status == 200  # the signed-in rep


# -- the inbox page ---------------------------------------------------------------------------


async def test_inbox_shows_meetings_leads_breakdown_and_feeds(
    client: TestClient, world: World
) -> None:
    response = await client.get("/inbox")
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
    # Links name the lead by its opaque id, never the conversation id (README, privacy).
    assert f'href="/inbox/leads/{world.lead("c1").public_id}"' in body
    assert "/inbox/leads/c1" not in body
    # Every rep's feed URL, from PUBLIC_BASE_URL and the HMAC token.
    for each in REPS.reps:
        assert f"{BASE}/reps/{rep_feed_token(SECRET.encode(), each.email)}.ics" in body


async def test_visitor_markup_is_escaped(client: TestClient) -> None:
    body = await (await client.get("/inbox")).text()
    assert XSS not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script" not in body.lower()


async def test_the_lead_link_on_the_page_opens_the_transcript(
    client: TestClient, world: World
) -> None:
    body = await (await client.get("/inbox")).text()
    lead_id = world.lead("c1").public_id
    [link] = set(re.findall(f'href="(/inbox/leads/{lead_id})"', body))  # meeting + lead
    response = await client.get(link)
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
            await sign_in(client)
            response = await client.get(f"/inbox/leads/{world.lead('c1').public_id}")
            assert response.status == 200
            page = await response.text()
            assert expected in page and "Jane Doe" in page
        finally:
            await client.close()
    assert not (world.tmp_path / "missing").exists()  # reading never creates the tracker file


async def test_unknown_lead_is_404(client: TestClient) -> None:
    response = await client.get("/inbox/leads/other")  # has events, no lead
    assert response.status == 404
    assert "someone else" not in await response.text()


# -- exports ----------------------------------------------------------------------------------


async def test_json_and_csv_exports(client: TestClient, world: World) -> None:
    # Downloads leave the system: leads by their opaque id, no conversation id (README, privacy).
    by_id = {world.lead(c).public_id: c for c in ("c1", "xss", "n1")}
    response = await client.get("/inbox/leads.json")
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    downloaded = (await response.json())["leads"]
    assert not any("conversation_id" in lead for lead in downloaded)
    leads = {by_id[lead["lead_id"]]: lead for lead in downloaded}
    assert set(leads) == {"c1", "xss", "n1"}
    assert leads["c1"]["name"] == "Jane Doe" and leads["c1"]["outcome"] == "meeting_booked"
    assert leads["c1"]["score_breakdown"][0]["reason"] == "vp role"
    assert leads["xss"]["name"] == XSS  # data, not HTML: exported as it is

    response = await client.get("/inbox/leads.csv", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="leads-20261123.csv"' in response.headers["Content-Disposition"]
    text = await response.text()
    assert "conversation_id" not in text.splitlines()[0]
    # No cell is a conversation id ("c1" may well occur inside a random hex lead id).
    assert not {"c1", "xss", "n1"} & {cell for row in csv.reader(io.StringIO(text)) for cell in row}
    rows = {by_id[row["lead_id"]]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["c1"]["name"] == "Jane Doe" and rows["c1"]["email"] == "jane@acme.test"
    assert rows["c1"]["outcome"] == "meeting_booked"

    limited = await client.get("/inbox/leads.json?limit=1")
    assert len((await limited.json())["leads"]) == 1
    assert (await client.get("/inbox/leads.csv?limit=0")).status == 400
    assert (await client.get("/inbox/leads.csv?limit=x")).status == 400


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


# -- search, filters, pages -------------------------------------------------------------------


def seed_many(world: World, count: int = 30) -> None:
    """`count` more leads: every third cold, every fifth waiting for a person, the first ten
    nurtured with Grace (outcome and rep as the nurture and booking services leave them)."""
    engine = make_engine(world.database_url)
    store = LeadStore(engine)
    for number in range(count):
        cold = number % 3 == 0
        make_lead(
            store,
            f"bulk-{number:02d}",
            name=f"Bulk Lead {number:02d}",
            email=f"bulk{number:02d}@bulk.test",
            tier="cold" if cold else "marketing_qualified",
            score=10 if cold else 45,
        )
        if number % 5 == 0:
            store.request_human(f"bulk-{number:02d}")
        world.clock.advance(minutes=1)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE leads SET outcome = 'nurture', rep_email = 'grace@example.com' "
                "WHERE conversation_id < 'bulk-10' AND conversation_id LIKE 'bulk-%'"
            )
        )
    engine.dispose()


def names_on(page: str) -> list:
    return re.findall(r'<h3 id="lead-[0-9a-f]+">([^<]+)</h3>', page)


async def test_search_filters_and_pages(client: TestClient, world: World) -> None:
    seed_many(world)
    first = await (await client.get("/inbox")).text()
    assert "Leads (33)" in first and "1–25 of 33" in first
    assert len(names_on(first)) == 25
    [older] = re.findall(r'href="([^"]+)" rel="next"', first)
    second = await (await client.get(unescape(older))).text()
    assert len(names_on(second)) == 8 and 'rel="prev"' in second
    assert not set(names_on(first)) & set(names_on(second))  # no lead twice

    async def shown(query: str) -> set:
        response = await client.get("/inbox?" + query)
        assert response.status == 200
        return set(names_on(await response.text()))

    assert await shown("q=bulk07") == {"Bulk Lead 07"}  # search in email, case-insensitive
    assert await shown("q=nora") == {"Nora Nurture"}  # name
    assert "Leads (33)" in await (await client.get("/inbox?q=ACME")).text()  # company
    cold = {f"Bulk Lead {n:02d}" for n in range(30) if n % 3 == 0}
    assert await shown("tier=cold") == cold
    waiting = {f"Bulk Lead {n:02d}" for n in range(0, 30, 5)} | {"Jane Doe"}
    assert await shown("waiting=1") == waiting
    # A live-chat request still in the queue counts too; one a rep took over doesn't.
    from bot.storage.models import Handoff

    with unit_of_work(make_session_factory(make_engine(world.database_url))) as session:
        session.add(Handoff(conversation_id="bulk-01", kind="live", state="waiting"))
        session.add(Handoff(conversation_id="bulk-02", kind="live", state="live"))
    assert await shown("waiting=1") == waiting | {"Bulk Lead 01"}
    nurtured = {f"Bulk Lead {n:02d}" for n in range(10)} | {"Nora Nurture"}
    assert await shown("outcome=nurture") == nurtured
    assert await shown("rep=grace@example.com&tier=cold") == {
        f"Bulk Lead {n:02d}" for n in (0, 3, 6, 9)
    }
    page = await (await client.get("/inbox?outcome=meeting_booked&q=nobody")).text()
    assert "No leads match these filters." in page
    # The form shows what is applied, and a next page keeps the filters.
    page = await (await client.get("/inbox?tier=marketing_qualified")).text()
    assert '<option value="marketing_qualified" selected>' in page
    page = await (await client.get("/inbox?q=bulk")).text()
    [older] = re.findall(r'href="([^"]+)" rel="next"', page)
    assert "q=bulk" in older and "page=2" in older
    assert len(names_on(await (await client.get(unescape(older))).text())) == 5
    for bad in ("tier=hot", "outcome=won", "page=0", "page=x"):
        response = await client.get("/inbox?" + bad)
        assert response.status == 400
        assert_private_html(response)


async def test_reps_set_password_command(world: World, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", world.database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["reps", "set-password", "grace@example.com", "--password-stdin"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["reps", "set-password", "Grace@Example.com", "--password-stdin"]) == 0
    assert "created: grace@example.com" in capsys.readouterr().out
    assert main(["reps", "list"]) == 0
    assert capsys.readouterr().out.split() == ["ada@example.com", "grace@example.com"]
    client = await client_for(world, world.settings())
    try:
        response = await sign_in(client, "grace@example.com", "a long enough password")
        assert response.status == 303
    finally:
        await client.close()


# -- one layout, static styles ----------------------------------------------------------------


async def test_pages_share_one_layout_and_their_stylesheets_match_their_hashes(
    client: TestClient, world: World
) -> None:
    import base64
    import hashlib

    pages = {
        "/": "site.css",
        "/pricing": "site.css",
        "/privacy": "site.css",
        "/inbox": "inbox.css",
        f"/unsubscribe/{world.unsubscribe_token}": "inbox.css",
        "/inbox/login": "inbox.css",
    }
    for path, stylesheet in pages.items():
        response = await client.get(path)
        assert response.status == 200, path
        page = await response.text()
        assert '<a class="skip" href="#main">Skip to content</a>' in page  # base.html
        assert "<style" not in page and " style=" not in page  # no inline styles anywhere
        [(href, integrity)] = re.findall(
            r'<link rel="stylesheet" href="([^"]+)" integrity="([^"]+)">', page
        )
        assert href.startswith(f"/assets/{stylesheet}?v=")
        css = await client.get(unescape(href))
        assert css.status == 200 and css.content_type == "text/css"
        assert "immutable" in css.headers["Cache-Control"]  # versioned by its hash
        digest = base64.b64encode(hashlib.sha256(await css.read()).digest()).decode()
        assert integrity == f"sha256-{digest}"  # the browser would refuse it otherwise


# -- invitations ------------------------------------------------------------------------------


def invitation_path(world: World, email: str) -> str:
    """The link in the newest invitation email to `email`, as the outbox holds it."""
    from bot.storage.models import OutboxItem

    with unit_of_work(make_session_factory(make_engine(world.database_url))) as session:
        items = session.execute(select(OutboxItem).order_by(OutboxItem.id)).scalars().all()
        [text_] = [
            item.payload["text"]
            for item in items
            if item.payload.get("to") == [email] and "inbox account" in item.payload["subject"]
        ][-1:]
    [link] = re.findall(rf"{re.escape(BASE)}(/inbox/welcome/\S+)", text_)
    assert f"{BASE}/inbox/login" in text_
    return link


async def test_an_invited_rep_chooses_a_password_once(
    anonymous: TestClient, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", world.database_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE)
    assert main(["reps", "invite", "Linus@Example.com"]) == 0
    link = invitation_path(world, "linus@example.com")

    page = await anonymous.get(link)
    assert page.status == 200 and "linus@example.com" in await page.text()
    assert_private_html(page)
    csrf = form_csrf(await page.text())

    async def choose(password: str, again: str, token: str = csrf) -> ClientResponse:
        return await anonymous.post(
            link,
            data={"password": password, "again": again, "csrf": token},
            allow_redirects=False,
        )

    assert (await choose("a long enough password", "a different password")).status == 400
    short = await choose("short", "short")
    assert short.status == 400
    assert "A password needs at least 12 characters." in await short.text()
    assert (await choose("a long enough password", "a long enough password", "x")).status == 403
    done = await choose("a long enough password", "a long enough password")
    assert done.status == 303 and done.headers["Location"] == "/inbox"
    assert (await anonymous.get("/inbox", allow_redirects=False)).status == 200  # signed in
    assert (await anonymous.get(link)).status == 404  # once only
    other = await client_for(world, world.settings())  # someone else who got hold of the link
    try:
        fresh = form_csrf(await (await other.get("/inbox/login")).text())  # a valid pair
        again = await other.post(
            link,
            data={"password": "x" * 20, "again": "x" * 20, "csrf": fresh},
            allow_redirects=False,
        )
        assert again.status == 404
    finally:
        await other.close()


async def test_an_invitation_expires(anonymous: TestClient, world: World) -> None:
    engine = make_engine(world.database_url)
    Accounts(engine, world.clock).invite("grace@example.com", PublicUrls(BASE))
    engine.dispose()
    link = invitation_path(world, "grace@example.com")
    assert (await anonymous.get(link)).status == 200
    world.clock.advance(hours=73)
    response = await anonymous.get(link)
    assert response.status == 404 and "doesn" in await response.text()


async def test_malformed_forms_and_ids_are_4xx_json_not_500(anonymous: TestClient) -> None:
    for content_type, body in (
        ("multipart/form-data; boundary=x", b"garbage"),
        ("multipart/form-data", b"--x\r\n\r\n"),
        ("application/x-www-form-urlencoded; charset=nope", b"a=b"),
    ):
        response = await anonymous.post(
            "/inbox/login", data=body, headers={"Content-Type": content_type}
        )
        assert 400 <= response.status < 500, (content_type, response.status)
    bad_id = await anonymous.get("/inbox/leads/a%00b", allow_redirects=False)
    assert 300 <= bad_id.status < 500
