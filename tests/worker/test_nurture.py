"""Nurture: consent first, steps when due and not before, exactly once with two workers,
and stopping on unsubscribe, revoked consent, booking and erasure."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, List, Mapping

import pytest
from sqlalchemy import func, select

from bot.booking.reps import load_reps
from bot.booking.service import BookingService
from bot.config.settings import PROJECT_ROOT
from bot.leads.store import LeadStore
from bot.nurture.service import EnrollResult, NurtureConfigError, NurtureService, load_nurture
from bot.outbox.delivery import DeliveryResult, Dispatcher
from bot.outbox.queue import Outbox
from bot.outbox.worker import Worker
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import NurtureSend, OutboxItem
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead

CONFIG = load_nurture(PROJECT_ROOT / "config" / "nurture.yml")

CONSENT_VERSION = "2026-11-01"


class Recorder:
    def __init__(self) -> None:
        self.sent: List[Mapping[str, Any]] = []
        self.lock = threading.Lock()

    def deliver(self, payload: Mapping[str, Any], item_id: int | None = None) -> DeliveryResult:
        with self.lock:
            self.sent.append(payload)
        return DeliveryResult(True)

    def close(self) -> None:
        pass


@pytest.fixture
def clock() -> Clock:
    return Clock()


def setup(database_url: str, clock: Clock):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    nurture = NurtureService(
        engine, CONFIG, clock, PublicUrls("https://bot.test"), consent_version=CONSENT_VERSION
    )
    mail = Recorder()
    worker = Worker(Outbox(engine), Dispatcher(mail, Recorder()), nurture, clock)  # type: ignore[arg-type]
    return LeadStore(engine), nurture, worker, mail


def test_with_consent_steps_go_out_when_due_and_not_before(database_url: str, clock) -> None:
    store, nurture, worker, mail = setup(database_url, clock)
    make_lead(store, "c1", nurture=True, tier="marketing_qualified", score=40)
    assert nurture.enroll("c1") is EnrollResult.ENROLLED
    assert nurture.enroll("c1") is EnrollResult.ALREADY
    assert store.get("c1")["outcome"] == "nurture"
    worker.run_once()
    assert mail.sent == []  # first step after 10 minutes
    clock.advance(minutes=10)
    worker.run_once()
    [first] = mail.sent
    assert first["to"] == ["jane@acme.test"] and first["subject"] == "Thanks for stopping by, Jane"
    assert "https://bot.test/unsubscribe/" in first["text"] and "Acme" in first["text"]
    assert first["headers"]["List-Unsubscribe"].startswith("<https://bot.test/unsubscribe/")
    clock.advance(days=2)
    worker.run_once()
    assert len(mail.sent) == 1  # step two is due 3 days after enrolment
    clock.advance(days=1)
    worker.run_once()
    worker.run_once()
    assert [m["subject"] for m in mail.sent][1] == "Which plan fits Acme?"
    clock.advance(days=30)
    worker.run_once()
    assert len(mail.sent) == 3  # all three, each once


def test_without_consent_nothing_is_ever_sent(database_url: str, clock) -> None:
    store, nurture, worker, mail = setup(database_url, clock)
    make_lead(store, "c1", nurture=False, tier="cold", score=10)
    assert nurture.enroll("c1") is EnrollResult.NO_CONSENT
    assert nurture.enroll("nobody") is EnrollResult.NO_LEAD
    assert store.get("c1")["outcome"] == "none"
    for _ in range(5):
        clock.advance(days=10)
        worker.run_once()
    assert mail.sent == []


def _token(database_url: str) -> str:
    from bot.storage.models import NurtureEnrollment

    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        return session.execute(select(NurtureEnrollment.unsubscribe_token)).scalar_one()


@pytest.mark.parametrize("how", ["unsubscribe", "revoke", "erase", "booked"])
def test_sending_stops(database_url: str, clock, how: str) -> None:
    store, nurture, worker, mail = setup(database_url, clock)
    make_lead(store, "c1", nurture=True, tier="marketing_qualified", score=40)
    nurture.enroll("c1")
    clock.advance(minutes=10)
    worker.run_once()
    assert len(mail.sent) == 1
    if how == "unsubscribe":
        assert nurture.unsubscribe(_token(database_url)) is True
        assert store.get("c1")["nurture_consent"] is False
        assert nurture.unsubscribe("not-a-token") is False
    elif how == "revoke":
        store.record_nurture_consent("c1", False, "v1")
    elif how == "erase":
        store.erase("c1")
    else:
        service = BookingService(
            make_engine(database_url),
            load_reps(PROJECT_ROOT / "config" / "reps.yml"),
            clock,
            PublicUrls("https://bot.test"),
        )
        offer = service.offer("c1")
        service.book("c1", offer.rep.email, offer.slots[0])
    clock.advance(days=30)
    worker.run_once()
    worker.run_once()
    sent = [m for m in mail.sent if "unsubscribe" in m.get("text", "")]
    assert len(sent) == 1


def test_two_workers_send_each_step_exactly_once(database_url: str, clock) -> None:
    leads = 12
    store, _, _, _ = setup(database_url, clock)
    for n in range(leads):
        make_lead(store, f"c{n}", nurture=True, tier="cold", score=5)
    _, first, _, _ = setup(database_url, clock)
    for n in range(leads):
        first.enroll(f"c{n}")
    clock.advance(days=4)  # steps 1 and 2 are due
    pairs = [setup(database_url, clock) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        barrier.wait()
        for _ in range(3):
            pairs[index][2].run_once()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    sent = pairs[0][3].sent + pairs[1][3].sent
    keys = [(m["to"][0], m["subject"]) for m in sent]
    assert len(sent) == leads * 2  # two due steps each, none twice
    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        assert session.execute(select(func.count()).select_from(NurtureSend)).scalar_one() == 24
        assert session.execute(select(func.count()).select_from(OutboxItem)).scalar_one() == 24
    assert len(keys) == 24


GOOD = (PROJECT_ROOT / "config" / "nurture.yml").read_text()


@pytest.mark.parametrize(
    "old, new, problem",
    [
        ("delay: 3d", "delay: three days", "is not like 30m"),
        ("delay: 3d", "delay: 1m", "must not decrease"),
        ("by, {first_name|there}", "by, {firstname|there}", "unknown variable {firstname}"),
        (
            "Unsubscribe: {unsubscribe_url}\n      - id: check_in",
            "Bye\n      - id: check_in",
            "has no {unsubscribe_url}",
        ),
        ("        channel: email", "        channel: sms", "unknown channel 'sms'"),
        ("default_sequence: standard", "default_sequence: other", "no sequence named 'other'"),
        ("tiers: [marketing_qualified, cold]", "tiers: [warm]", "unknown tier 'warm'"),
    ],
)
def test_broken_nurture_files(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert old in GOOD, old
    path = tmp_path / "nurture.yml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(NurtureConfigError, match=r":\d+: ") as error:
        load_nurture(path)
    assert problem in str(error.value)
