"""Every email the system sends, rendered by the real code paths (booking confirmation and rep
notification, moved and cancelled meetings, every nurture step of config/nurture.yml, the
handoff notices: a visitor waiting for a person, a call back, a message left; a rep's
invitation to the inbox; the cancellation sent when a visitor's data is erased), and every link
in them (text, List-Unsubscribe, the attached invite) followed: links to the company's site are
of SITE_URL; links to the bot's own web process answer 200 on a running web process (the
inbox's private pages to a signed-in rep, after sending a stranger to sign in)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Set

import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.accounts.service import Accounts
from bot.booking.ics import unfold
from bot.booking.service import Booked
from bot.config.settings import Settings
from bot.nurture.service import load_nurture
from bot.services import build_services
from bot.storage.engine import make_session_factory, unit_of_work
from bot.storage.enums import DeliveryPurpose
from bot.storage.migrate import upgrade
from bot.storage.models import OutboxItem
from bot.web import context as web_context
from bot.web.app import create_app
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead
from tests.web.test_inbox_web import PASSWORD, REP_EMAIL, sign_in
from tests.worker.conftest import free_port

SITE = "https://www.acme-company.test"
# The page the visitor chatted on (the rep's email shows the lead's source): their data, not
# a link we make.
VISITOR_PAGE = "https://example.test/pricing"
URL = re.compile(r"https?://[^\s<>\"'\\]+")


def links(payload: Dict) -> Set[str]:
    texts = [payload["text"], *(payload.get("headers") or {}).values()]
    for attachment in payload.get("attachments") or []:
        texts.append("\n".join(unfold(attachment["content"])))
    return {match.rstrip(".,;:)") for text in texts for match in URL.findall(text)}


@pytest.mark.parametrize("configured_site", [SITE, ""], ids=["SITE_URL set", "default"])
async def test_every_link_in_every_email_resolves(tmp_path: Path, configured_site: str) -> None:
    """With SITE_URL unset, the site is the bot's demo site: then those links are fetched too."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = configured_site or base
    database_url = f"sqlite:///{tmp_path / 'leadbot.db'}"
    upgrade(database_url)
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            "SECRET_KEY": "links-secret-for-tests",
            "PUBLIC_BASE_URL": base,
            "SITE_URL": configured_site,
            "OUTBOX_MAIL_DIR": str(tmp_path / "mail"),
        }
    )
    clock = Clock()
    svc = build_services(settings, clock)

    # A meeting booked, moved, then cancelled; a lead taken through the whole nurture sequence.
    make_lead(svc.leads, "hot")
    offer = svc.outcomes.offer("hot", "Europe/Berlin")
    assert isinstance(
        svc.outcomes.book("hot", offer.rep.email, offer.slots[0], "Europe/Berlin"), Booked
    )
    token = svc.outcomes.manage_url("hot").rsplit("/", 1)[1]
    assert svc.booking.reschedule(token, svc.booking.manage(token).slots[0]).state == "moved_now"
    assert svc.booking.cancel(token).state == "cancelled_now"
    make_lead(svc.leads, "cold", nurture=True, tier="cold", score=5, email="cole@cold.test")
    assert svc.outcomes.enroll("cold").value == "enrolled"
    steps = load_nurture(settings.nurture_file).for_tier("cold").steps
    for _ in steps:
        clock.advance(days=30)
        svc.nurture.queue_due()
    # A visitor asks for a person, then leaves a message; another asks to be called back.
    make_lead(svc.leads, "human", name="Hugo Human", email="hugo@human.test")
    svc.handoffs.request_live("human", visitor_tz="Europe/Berlin")
    assert svc.handoffs.leave_message("human", "Please call me back tomorrow.")
    make_lead(svc.leads, "callback", name="Cal Back", email="cal@back.test")
    assert svc.handoffs.request_callback("callback") is not None
    # A rep is invited to the inbox; another signs in to follow the inbox links.
    accounts = Accounts(svc.engine, clock)
    accounts.invite("newrep@example.com", PublicUrls(base))
    accounts.set_password(REP_EMAIL, PASSWORD)
    # A visitor with a booked meeting has their data erased: the rep gets a cancellation.
    make_lead(svc.leads, "gone", name="Gina Gone", email="gina@gone.test")
    offer = svc.outcomes.offer("gone", "Europe/Berlin")
    assert isinstance(
        svc.outcomes.book("gone", offer.rep.email, offer.slots[0], "Europe/Berlin"), Booked
    )
    svc.eraser.erase("gone")  # "forget me"

    with unit_of_work(make_session_factory(svc.engine)) as session:
        emails = [
            dict(item.payload)
            for item in session.execute(
                select(OutboxItem).where(OutboxItem.kind == "email").order_by(OutboxItem.id)
            ).scalars()
        ]
    subjects = [email["subject"] for email in emails]
    for prefix in (
        "Meeting booked:",  # rep notification
        "Confirmed: your meeting",  # visitor's booking confirmation
        "Meeting moved:",
        "Moved: your meeting",
        "Meeting cancelled: Jane Doe",
        "Cancelled: your meeting",
        "Message from the website chat: Hugo Human",
        "Call back requested: Cal Back",
    ):
        assert sum(s.startswith(prefix) for s in subjects) == 1, (prefix, subjects)
    purposes = {email_purpose for email_purpose, _ in emails_by_purpose(svc)}
    assert purposes == {p.value for p in DeliveryPurpose} - {DeliveryPurpose.CRM.value}, purposes
    assert any(s.endswith(": Hugo Human (Acme)") and "person" in s for s in subjects), subjects
    # The erasure's cancellation names only the time (two "Meeting cancelled:" in all).
    assert sum(s.startswith("Meeting cancelled:") for s in subjects) == 2, subjects
    nurture = [e for e in emails if e["to"] == ["cole@cold.test"]]
    assert len(nurture) == len(steps) == 3

    found: Dict[str, List[str]] = {}
    for email in emails:
        for link in links(email) - {VISITOR_PAGE}:
            found.setdefault(link, []).append(email["subject"])
    site_links = [link for link in found if link == site or link.startswith(site + "/")]
    own_links = [link for link in found if link.startswith(base + "/")]
    assert set(site_links) | set(own_links) == set(found), "a link to somewhere else"
    nurture_links = {link for e in nurture for link in links(e)}
    assert {site + "/", site + "/pricing"} <= nurture_links
    assert site_links, "the nurture emails link to the company's site"
    assert not any("/overview" in link or "/case-studies" in link for link in found)
    kinds = {re.sub(r"/[A-Za-z0-9_-]{16,}", "/<token>", link[len(base) :]) for link in own_links}
    assert kinds >= {
        "/meetings/<token>",
        "/invite/<token>.ics",
        "/unsubscribe/<token>",
        "/inbox/handoffs/<token>",
        "/inbox/welcome/<token>",
    }
    if not configured_site:  # the demo site's pages are served here: fetched below
        assert {base + "/", base + "/pricing"} <= set(own_links)

    app = create_app(settings)
    app[web_context.CLOCK_KEY] = clock
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        async with ClientSession() as stranger:
            for link in sorted(own_links):
                async with stranger.get(link, allow_redirects=False) as response:
                    if private(base, link):  # sent to sign in first, and back
                        assert response.status == 303, (link, response.status)
                        assert "/inbox/login" in response.headers["Location"], link
                    else:
                        assert response.status == 200, (link, response.status, found[link])
        rep = TestClient(server, cookie_jar=CookieJar(unsafe=True))
        try:
            assert (await sign_in(rep)).status == 303
            for link in sorted(own_links):
                if private(base, link):
                    response = await rep.get(link[len(base) :], allow_redirects=False)
                    assert response.status == 200, (link, response.status, found[link])
        finally:
            await rep.close()
    finally:
        await server.close()


def private(base: str, link: str) -> bool:
    """A page of the reps' inbox that needs a signed-in rep (the sign-in page and an
    invitation link do not)."""
    path = link[len(base) :]
    return path.startswith("/inbox/") and not path.startswith(("/inbox/login", "/inbox/welcome/"))


def emails_by_purpose(svc) -> List[tuple]:  # type: ignore[no-untyped-def]
    """(purpose, subject) of every email in the outbox."""
    with unit_of_work(make_session_factory(svc.engine)) as session:
        return [
            (str(getattr(purpose, "value", purpose)), payload["subject"])
            for purpose, payload in session.execute(
                select(OutboxItem.purpose, OutboxItem.payload).where(OutboxItem.kind == "email")
            )
        ]
