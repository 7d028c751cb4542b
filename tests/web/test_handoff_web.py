"""The handoff pages and the widget's long-poll over real HTTP (the parts that need no Rasa
server; taking over, messages and handing back are end to end in tests/e2e/test_handoff.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.accounts.service import Accounts
from bot.clock import utc_now
from bot.config.settings import Settings
from bot.leads.sessions import new_session
from bot.services import build_services
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade
from bot.web.app import create_app
from tests.conftest import handoff_reps_file
from tests.web.test_inbox_web import form_csrf, sign_in

PASSWORD = "a long enough password"

SECRET = "handoff-web-secret"
XSS = "<script>alert(1)</script>"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    database_url = f"sqlite:///{tmp_path / 'leadbot.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    Accounts(engine, utc_now).set_password("hana@example.com", PASSWORD)
    engine.dispose()
    return Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            "SECRET_KEY": SECRET,
            "REPS_FILE": str(handoff_reps_file(tmp_path)),
            "RASA_AUTH_TOKEN": "unused",
            "RASA_URL": "http://127.0.0.1:9",  # nothing listens: these tests never need Rasa
            "PUBLIC_BASE_URL": "http://bot.example.test",
        }
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield client
    await client.close()


def waiting_handoff(settings: Settings, conversation_id: str, name: str | None = None) -> str:
    services = build_services(settings)
    try:
        if name:
            services.leads.start(conversation_id, "v1")
            services.leads.record_answer(conversation_id, "name", name, "ok", {"name": name})
        return services.handoffs.request_live(conversation_id).handoff.public_id
    finally:
        services.close()


async def test_the_queue_is_for_signed_in_reps_and_escapes_visitor_text(
    client: TestClient, settings: Settings
) -> None:
    public_id = await asyncio.to_thread(waiting_handoff, settings, "c-xss", XSS)
    stranger = await client.get("/inbox/handoffs", allow_redirects=False)
    assert stranger.status == 303 and stranger.headers["Location"].startswith("/inbox/login")
    events = await client.get(f"/inbox/handoffs/{public_id}/events.json")
    assert events.status == 401
    assert (await sign_in(client, "hana@example.com", PASSWORD)).status == 303
    page = await client.get("/inbox/handoffs")
    assert page.status == 200
    html = await page.text()
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f'href="/inbox/handoffs/{public_id}"' in html and "Waiting" in html
    assert "c-xss" not in html  # the conversation id never leaves the system
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["Cache-Control"] == "no-store"

    one = await client.get(f"/inbox/handoffs/{public_id}")
    assert one.status == 200 and "Take over" in await one.text()
    assert "script-src 'self'" in one.headers["Content-Security-Policy"]  # handoff.js only
    assert "unsafe-inline" not in one.headers["Content-Security-Policy"]
    script = await client.get("/assets/handoff.js")
    assert script.status == 200 and script.content_type == "application/javascript"
    missing = await client.get("/inbox/handoffs/" + "0" * 24)
    assert missing.status == 404
    forged = await client.post(f"/inbox/handoffs/{public_id}/take", data={"csrf": "forged"})
    assert forged.status == 403  # no valid CSRF token, nothing happens
    state = await (await client.get(f"/inbox/handoffs/{public_id}/events.json")).json()
    assert state["state"] == "waiting"


async def test_the_long_poll_waits_for_a_push_and_checks_who_asks(
    client: TestClient, settings: Settings
) -> None:
    await asyncio.to_thread(waiting_handoff, settings, "visitor-1")
    assert (await client.get("/webhooks/widget/events", params={"sender": "a b"})).status == 400
    bad = await client.get("/webhooks/widget/events", params={"sender": "visitor-1", "after": "x"})
    assert bad.status == 400
    minted = new_session(SECRET.encode())
    refused = await client.get("/webhooks/widget/events", params={"sender": minted.sender_id})
    assert refused.status == 403  # a server-minted id needs its session token
    allowed = await client.get(
        "/webhooks/widget/events",
        params={"sender": minted.sender_id, "session": minted.token},
    )
    assert allowed.status == 200
    foreign = await client.get(
        "/webhooks/widget/events",
        params={"sender": "visitor-1"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status == 403

    first = await (
        await client.get("/webhooks/widget/events", params={"sender": "visitor-1"})
    ).json()
    assert first == {"messages": [], "cursor": 0, "state": "waiting"}

    async def push_later() -> None:
        await asyncio.sleep(1.0)
        services = await asyncio.to_thread(build_services, settings)
        await asyncio.to_thread(services.handoffs.push, "visitor-1", {"text": "Hi, Hana here"})
        services.close()

    started = time.monotonic()
    pusher = asyncio.create_task(push_later())
    response = await client.get(
        "/webhooks/widget/events", params={"sender": "visitor-1", "after": "0"}
    )
    body = await response.json()
    await pusher
    assert body["messages"] == [{"text": "Hi, Hana here"}] and body["cursor"] >= 1
    assert 0.9 <= time.monotonic() - started < 10  # held until the message came, not 25 s
    assert response.headers["Cache-Control"] == "no-store"


async def test_a_waiting_handoff_is_closed_once_and_cannot_be_handed_back(
    client: TestClient, settings: Settings
) -> None:
    """`/close` and `/return` are one route: a waiting handoff (no Rasa involved) can be closed,
    not handed back, and only once; any other ending is no route at all."""
    public_id = await asyncio.to_thread(waiting_handoff, settings, "visitor-end")
    stranger = await client.post(
        f"/inbox/handoffs/{public_id}/close", data={"csrf": "x"}, allow_redirects=False
    )
    assert stranger.status == 303 and stranger.headers["Location"].startswith("/inbox/login")
    assert (await sign_in(client, "hana@example.com", PASSWORD)).status == 303
    page = await client.get(f"/inbox/handoffs/{public_id}")
    csrf = form_csrf(await page.text())
    base = f"/inbox/handoffs/{public_id}"
    back = await client.post(base + "/return", data={"csrf": csrf}, allow_redirects=False)
    assert back.status == 409  # only a live conversation is handed back
    closed = await client.post(base + "/close", data={"csrf": csrf}, allow_redirects=False)
    assert closed.status == 303 and closed.headers["Location"] == base
    state = await (await client.get(base + "/events.json")).json()
    assert state["state"] != "waiting"
    again = await client.post(base + "/close", data={"csrf": csrf}, allow_redirects=False)
    assert again.status == 409
    other = await client.post(base + "/resume", data={"csrf": csrf}, allow_redirects=False)
    assert other.status in (404, 405)
