"""The outbox and the worker against real endpoints: SMTP (aiosmtpd) and HTTP receivers,
retries with backoff on a controllable clock, failures visible in `outbox status`, and two
workers delivering each row exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from bot.booking.reps import load_reps
from bot.booking.service import Booked, BookingService
from bot.config.settings import PROJECT_ROOT, Settings
from bot.leads.store import LeadStore
from bot.outbox.delivery import Dispatcher, EmailDelivery, WebhookDelivery
from bot.outbox.queue import Backoff, Outbox, enqueue
from bot.outbox.worker import Worker
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import OutboxItem
from bot.web.urls import PublicUrls
from tests.bot.factories import Clock, make_lead

REPS = load_reps(PROJECT_ROOT / "config" / "reps.yml")
NO_JITTER = Backoff(base_seconds=30, cap_seconds=600, jitter=0.5)

URLS = PublicUrls("http://127.0.0.1:8080")


def settings_for(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    base = Settings(database_url=database_url, outbox_mail_dir=tmp_path / "mail")
    return replace(base, smtp_starttls=False, **overrides)


def worker_for(database_url: str, settings: Settings, clock: Clock, **outbox_args) -> Worker:  # type: ignore[no-untyped-def]
    outbox = Outbox(make_engine(database_url), rng=lambda: 0.0, **outbox_args)
    dispatcher = Dispatcher(EmailDelivery(settings), WebhookDelivery(settings.webhook_timeout_s))
    return Worker(outbox, dispatcher, None, clock, poll_seconds=0.01)


def test_the_rep_receives_the_booking_by_email_with_an_ics(
    sqlite_url: str, tmp_path: Path, smtp_server
) -> None:
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    host, port, captured = smtp_server
    clock = Clock()
    make_lead(LeadStore(make_engine(sqlite_url)), "c1")
    service = BookingService(make_engine(sqlite_url), REPS, clock, URLS)
    offer = service.offer("c1", "Europe/Berlin")
    assert isinstance(service.book("c1", offer.rep.email, offer.slots[0]), Booked)
    settings = settings_for(sqlite_url, tmp_path, smtp_host=host, smtp_port=port)
    report = worker_for(sqlite_url, settings, clock).run_once()
    assert report.delivered == 2  # the rep's notification and the visitor's confirmation
    [message] = [m for m in captured.messages if m["To"] == offer.rep.email]
    assert sorted(rcpt[0] for _, rcpt in captured.envelopes) == sorted(
        [offer.rep.email, "jane@acme.test"]
    )
    assert message["Reply-To"] == "jane@acme.test"
    text = message.get_body(("plain",)).get_content()
    for expected in (
        "Jane Doe",
        "VP Sales (vp)",
        "Acme",
        "450 people",
        "$60,000 per year",
        'typed: "about 450"',
        "Score: 85/100",
        "+25  vp role",
        "/pricing",
    ):
        assert expected in text, expected
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "text/calendar"
    ics = attachment.get_payload(decode=True).decode()
    assert ics.startswith("BEGIN:VCALENDAR\r\n")
    assert f"DTSTART:{offer.slots[0]:%Y%m%dT%H%M%SZ}\r\n" in ics
    assert "METHOD:REQUEST" in ics


def test_offline_mode_writes_email_to_a_folder(sqlite_url: str, tmp_path: Path) -> None:
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    clock = Clock()
    with unit_of_work(make_session_factory(engine)) as session:
        payload = {"to": ["rep@x.test"], "subject": "Hi", "text": "B"}
        enqueue(session, "email", "booking", payload, now=clock())
    settings = settings_for(sqlite_url, tmp_path)  # no SMTP_HOST
    assert worker_for(sqlite_url, settings, clock).run_once().delivered == 1
    [eml] = (tmp_path / "mail").glob("*.eml")
    assert "Subject: Hi" in eml.read_text()


def test_a_failing_webhook_is_retried_with_backoff(
    sqlite_url: str, tmp_path: Path, receiver
) -> None:
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    receiver.fail_first = 2
    clock = Clock()
    engine = make_engine(sqlite_url)
    with unit_of_work(make_session_factory(engine)) as session:
        payload = {"integration": "rep", "url": receiver.url, "body": {"text": "hello"}}
        enqueue(session, "webhook", "booking", payload, now=clock())
    worker = worker_for(sqlite_url, settings_for(sqlite_url, tmp_path), clock, backoff=NO_JITTER)
    assert worker.run_once().retrying == 1  # 503
    assert worker.run_once().retrying == 0  # not due yet: 30 s backoff
    clock.advance(seconds=29)
    assert worker.run_once().retrying == 0
    clock.advance(seconds=1)
    assert worker.run_once().retrying == 1  # 503 again; next backoff 60 s
    clock.advance(seconds=59)
    assert worker.run_once().delivered == 0
    clock.advance(seconds=1)
    assert worker.run_once().delivered == 1
    assert receiver.requests == 3 and receiver.bodies == [{"text": "hello"}]
    [item] = Outbox(engine).status().failed or [None]
    assert item is None
    with unit_of_work(make_session_factory(engine)) as session:
        row = session.execute(select(OutboxItem)).scalar_one()
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    backoff = Backoff(base_seconds=30, cap_seconds=600, jitter=0.5)
    assert [backoff.delay(n, lambda: 0.0).total_seconds() for n in (1, 2, 3, 6, 20)] == [
        30,
        60,
        120,
        600,
        600,
    ]
    assert backoff.delay(2, lambda: 1.0).total_seconds() == 30  # jitter takes up to half off


def test_a_timing_out_webhook_fails_visibly_and_never_blocks_the_conversation(
    sqlite_url: str, tmp_path: Path, receiver, monkeypatch, capsys, caplog
) -> None:
    from bot.cli import main
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    receiver.delay = 1.0
    clock = Clock()
    make_lead(LeadStore(make_engine(sqlite_url)), "c1")
    service = BookingService(
        make_engine(sqlite_url), REPS, clock, URLS, rep_webhook_url=receiver.url
    )
    offer = service.offer("c1")
    started = time.perf_counter()
    assert isinstance(service.book("c1", offer.rep.email, offer.slots[0]), Booked)
    book_seconds = time.perf_counter() - started
    assert book_seconds < 0.5  # the conversation only enqueues
    settings = settings_for(sqlite_url, tmp_path, webhook_timeout_s=0.2)
    worker = worker_for(sqlite_url, settings, clock, max_attempts=3, backoff=NO_JITTER)
    reports = []
    for _ in range(3):
        reports.append(worker.run_once())
        clock.advance(minutes=10)
    assert [r.failed for r in reports] == [0, 0, 1]
    assert sum(r.delivered for r in reports) == 2  # the emails went out (offline folder)
    assert "failed after 3 attempts: ReadTimeout" in caplog.text
    assert "jane" not in caplog.text.lower()
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["outbox", "status"]) == 0
    out = capsys.readouterr().out
    assert "sent 2" in out and "failed 1" in out
    assert "webhook/booking after 3 attempts: ReadTimeout" in out


def test_two_workers_deliver_each_row_exactly_once(
    database_url: str, tmp_path: Path, receiver
) -> None:
    items = 60
    engine = make_engine(database_url)
    with unit_of_work(make_session_factory(engine)) as session:
        for n in range(items):
            payload = {"integration": "crm", "url": receiver.url, "body": {"n": n}}
            enqueue(session, "webhook", "booking", payload, now=Clock()())
    settings = settings_for(database_url, tmp_path)
    clock = Clock()
    workers = [worker_for(database_url, settings, clock) for _ in range(2)]
    for worker in workers:
        worker.batch = 5
    barrier = threading.Barrier(2)
    delivered = [0, 0]

    def run(index: int) -> None:
        barrier.wait()
        delivered[index] = workers[index].run_once().delivered

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(body["n"] for body in receiver.bodies) == list(range(items))
    assert sum(delivered) == items and all(delivered), delivered  # both workers took part
    assert Outbox(engine).status().counts["sent"] == items
