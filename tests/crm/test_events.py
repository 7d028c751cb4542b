"""CRM events end to end at the service level: scripted conversations through the same
services the actions call, a real worker delivering over HTTP to a real receiver that checks
every request with the README's verification snippet. Every event arrives exactly once, signed,
without the conversation id; stale, tampered and replayed requests are refused."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator

import pytest
import requests

from bot.config.settings import Settings
from bot.conversation.outcomes import Signals
from bot.crm.events import EventType
from bot.crm.signing import signature_header, verify
from bot.outbox.worker import build_worker
from bot.services import Services, build_services
from bot.storage.migrate import upgrade
from tests.bot.factories import Clock
from tests.crm.receiver import Receiver, readme_verify, start_receiver
from tests.worker.conftest import free_port

SECRET = "test-secret-0123456789abcdef"

HOT = {
    "name": ("Hana Hot", {"name": "Hana Hot"}),
    "email": ("hana@bigco.test", {"email": "hana@bigco.test", "email_free_mail": False}),
    "role": ("VP of Sales", {"role": "VP Sales", "seniority": "vp"}),
    "company": ("BigCo", {"company": "BigCo"}),
    "company_size": ("about 450", {"company_size": 450}),
    "budget": ("60k", {"budget_usd": 60000}),
    "timeline": ("asap", {"timeline_months": 0}),
}
COLD = {
    "name": ("Cole Cold", {"name": "Cole Cold"}),
    "email": ("cole@gmail.com", {"email": "cole@gmail.com", "email_free_mail": True}),
    "role": ("student", {"role": "Student", "seniority": "student"}),
    "company": ("Uni", {"company": "Uni"}),
    "company_size": ("just me", {"company_size": 1}),
    "budget": ("no budget", {"budget_usd": 0}),
    "timeline": ("just looking", {"timeline_months": None}),
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state, server = start_receiver(SECRET, free_port())
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path: Path, receiver: Receiver) -> Settings:
    url = f"sqlite:///{tmp_path / 'leadbot.db'}"
    upgrade(url)
    return Settings.from_env(
        {
            "DATABASE_URL": url,
            "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
            "OUTBOX_MAIL_DIR": str(tmp_path / "mail"),
            "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
            "CRM_WEBHOOK_URL": receiver.url,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_TIMEOUT_S": "5",
        }
    )


def answer(svc: Services, cid: str, answers: Dict[str, tuple]) -> None:
    for slot, (raw, values) in answers.items():
        assert svc.leads.record_answer(cid, slot, raw, "ok", values)


def public_id(svc: Services, cid: str) -> str:
    """The lead's opaque id, as the operator's database has it."""
    from sqlalchemy import select

    from bot.storage.engine import make_session_factory, unit_of_work
    from bot.storage.models import Lead

    with unit_of_work(make_session_factory(svc.engine)) as session:
        return session.execute(
            select(Lead.public_id).where(Lead.conversation_id == cid)
        ).scalar_one()


def test_every_event_of_scripted_conversations_arrives_once_signed_and_anonymous(
    settings: Settings, receiver: Receiver
) -> None:
    clock = Clock(datetime.now(timezone.utc))  # the lead store stamps with the real time
    svc = build_services(settings, clock)
    worker = build_worker(settings, clock)
    receiver.fail_first = 2  # the CRM is down at first: the worker retries

    # 1. A hot visitor: consent, answers, scored sales-qualified, books a meeting.
    svc.leads.start("conv-hot", "v1", {"page_url": "https://site.test/pricing"})
    answer(svc, "conv-hot", HOT)
    assert svc.outcomes.assess("conv-hot", Signals(asked_for_demo=True)).tier == "sales_qualified"
    offer = svc.outcomes.offer("conv-hot", "Europe/Berlin")
    svc.outcomes.book("conv-hot", offer.rep.email, offer.slots[0], "Europe/Berlin")
    # 2. A cold visitor who wants follow-up emails: nurtured.
    svc.leads.start("conv-cold", "v1", None)
    svc.leads.record_nurture_consent("conv-cold", True, "v1")
    answer(svc, "conv-cold", COLD)
    assert svc.outcomes.assess("conv-cold", Signals()).tier == "cold"
    assert svc.outcomes.enroll("conv-cold").value == "enrolled"
    # 3. One who asks for a person (twice: one request).
    svc.leads.start("conv-human", "v1", None)
    answer(svc, "conv-human", {"email": ("hu@man.test", {"email": "hu@man.test"})})
    assert svc.leads.request_human("conv-human") and svc.leads.request_human("conv-human")
    # 4. One who never consents: nothing at all.
    assert svc.leads.request_human("conv-anonymous") is False

    worker.run_once()  # the two 503s: retried later
    assert receiver.answers == [503, 503] and receiver.events == []
    clock.advance(hours=2)
    worker.run_once()

    # 5. Another hot visitor books, then moves and cancels from the link in the confirmation.
    svc.leads.start("conv-moved", "v1", None)
    answer(svc, "conv-moved", HOT)
    assert svc.outcomes.assess("conv-moved", Signals(asked_for_demo=True)).tier == "sales_qualified"
    moved_offer = svc.outcomes.offer("conv-moved", "Europe/Berlin")
    svc.outcomes.book("conv-moved", moved_offer.rep.email, moved_offer.slots[0], "Europe/Berlin")
    token = svc.outcomes.manage_url("conv-moved").rsplit("/", 1)[1]
    new_start = svc.booking.manage(token).slots[0]
    assert svc.booking.reschedule(token, new_start).state == "moved_now"
    assert svc.booking.cancel(token).state == "cancelled_now"
    # 6. One who consents, is delivered, then says "forget me".
    svc.leads.start("conv-forget", "v1", None)
    answer(svc, "conv-forget", {"email": ("f@get.test", {"email": "f@get.test"})})
    worker.run_once()
    forget_id = public_id(svc, "conv-forget")
    svc.leads.erase("conv-forget")
    worker.run_once()
    worker.run_once()  # nothing left: nothing sent twice

    hot, moved, cold, human = (
        public_id(svc, f"conv-{c}") for c in ("hot", "moved", "cold", "human")
    )
    expected = sorted(
        [
            ("lead.created", hot),
            ("lead.qualified", hot),
            ("meeting.booked", hot),
            ("lead.created", moved),
            ("lead.qualified", moved),
            ("meeting.booked", moved),  # booked
            ("meeting.booked", moved),  # moved: sequence 1, previous_start
            ("meeting.cancelled", moved),
            ("lead.created", cold),
            ("lead.qualified", cold),
            ("lead.nurtured", cold),
            ("lead.created", human),
            ("handoff.requested", human),
            ("lead.created", forget_id),
            ("lead.erased", forget_id),
        ]
    )
    assert sorted(receiver.types_by_lead()) == expected  # each exactly once
    assert {e["type"] for e in receiver.events} == {t.value for t in EventType} - {
        EventType.NURTURE_STEP.value  # only for a nurture step of channel "webhook"
    }
    assert len({e["id"] for e in receiver.events}) == len(expected)
    assert set(receiver.answers) == {503, 200}  # every delivered request verified
    # What leaves the system never names the conversation.
    everything = json.dumps(receiver.events)
    assert "conv-" not in everything
    erased = next(e for e in receiver.events if e["type"] == "lead.erased")
    assert erased["data"] == {"lead": {"id": forget_id}}
    booked = next(
        e
        for e in receiver.events
        if e["type"] == "meeting.booked" and e["data"]["lead"]["id"] == hot
    )
    meeting = booked["data"]["meeting"]
    assert meeting["start"] == offer.slots[0].isoformat().replace("+00:00", "Z")
    assert meeting["rep_email"] == offer.rep.email and meeting["status"] == "booked"
    qualified = next(
        e
        for e in receiver.events
        if e["type"] == "lead.qualified" and e["data"]["lead"]["id"] == hot
    )
    lead = qualified["data"]["lead"]
    assert (lead["tier"], lead["company"], lead["budget_usd"]) == (
        "sales_qualified",
        "BigCo",
        60000,
    )
    assert lead["score_breakdown"] and lead["source"] == {"page_url": "https://site.test/pricing"}
    moves = [
        e["data"]["meeting"]
        for e in receiver.events
        if e["type"].startswith("meeting.") and e["data"]["lead"]["id"] == moved
    ]
    assert [(m["status"], m["sequence"]) for m in moves] == [
        ("booked", 0),
        ("booked", 1),
        ("cancelled", 2),
    ]
    assert moves[1]["previous_start"] == moves[0]["start"] != moves[1]["start"]
    assert moves[1]["start"] == new_start.isoformat().replace("+00:00", "Z") == moves[2]["start"]
    nurtured = next(e for e in receiver.events if e["type"] == "lead.nurtured")
    assert nurtured["data"]["nurture"] == {"sequence": "standard"}

    # Replays and forgeries: the receiver refuses what it must.
    body, header = receiver.raw[-1]
    processed = len(receiver.events)
    assert post(receiver, body, header) == 200 and len(receiver.events) == processed  # replay
    stale = signature_header(SECRET, int(time.time()) - 301, body)
    assert post(receiver, body, stale) == 400
    tampered = body.replace(b'"lead"', b'"Lead"')
    assert post(receiver, tampered, header) == 400
    assert (
        post(receiver, body, signature_header("another-secret-entirely", int(time.time()), body))
        == 400
    )
    assert len(receiver.events) == processed


def post(receiver: Receiver, body: bytes, header: str) -> int:
    return requests.post(
        receiver.url,
        data=body,
        headers={"Content-Type": "application/json", "Leadbot-Signature": header},
        timeout=10,
    ).status_code


def test_without_a_crm_no_event_is_stored(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from bot.storage.engine import make_session_factory, unit_of_work
    from bot.storage.models import OutboxItem

    url = f"sqlite:///{tmp_path / 'leadbot.db'}"
    upgrade(url)
    svc = build_services(Settings.from_env({"DATABASE_URL": url}), Clock())
    svc.leads.start("c1", "v1", None)
    svc.leads.request_human("c1")
    svc.leads.erase("c1")
    with unit_of_work(make_session_factory(svc.engine)) as session:
        assert session.execute(select(func.count()).select_from(OutboxItem)).scalar_one() == 0


def test_the_readme_snippet_and_the_signer_agree() -> None:
    readme = readme_verify()
    body = b'{"id":"evt_1","type":"lead.created","data":{"lead":{"id":"x"}}}'
    now = int(time.time())
    header = signature_header(SECRET, now, body)
    seen: set = set()
    assert readme(body, header, SECRET, seen)["id"] == "evt_1"
    assert readme(body, header, SECRET, seen) is None  # the same id again
    assert verify(SECRET, header, body, now=time.time()) == now
    for bad_header, error in (
        (signature_header(SECRET, now - 400, body), "stale"),
        (header.replace("v1=", "v1=0"), "signature"),
        ("t=abc", "signature"),
        ("", "signature"),
    ):
        with pytest.raises(ValueError, match=error):
            readme(body, bad_header, SECRET, set())


def test_a_crm_url_without_a_secret_stops_start_up() -> None:
    from bot.config.settings import SettingsError

    with pytest.raises(SettingsError) as error:
        Settings.from_env({"CRM_WEBHOOK_URL": "https://crm.example.com/hook"})
    assert list(error.value.problems) == ["WEBHOOK_SECRET"]
    with pytest.raises(SettingsError) as error:
        Settings.from_env(
            {"CRM_WEBHOOK_URL": "https://crm.example.com/hook", "WEBHOOK_SECRET": "short"}
        )
    assert "16 characters" in str(error.value) and "short" not in str(error.value)
