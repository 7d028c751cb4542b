"""Exactly once under concurrent workers: claims with an owner, renewed while a slow SMTP server
takes its time; unexpected errors count as attempts; a night-long outage loses nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select, text

from bot.clock import utc_now
from bot.config.settings import PROJECT_ROOT, Settings
from bot.outbox.delivery import Dispatcher, EmailDelivery, WebhookDelivery
from bot.outbox.queue import Outbox, enqueue
from bot.outbox.worker import Worker
from bot.services import build_services
from bot.storage.engine import make_engine, make_session_factory, unit_of_work
from bot.storage.models import OutboxItem
from tests.bot.factories import Clock
from tests.conftest import POSTGRES_ADMIN_URL
from tests.worker.conftest import free_port


class SlowSmtp:
    """A real SMTP server that takes `delay` seconds to accept each message."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.subjects: Counter = Counter()
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.subjects[message["Subject"]] += 1
        return "250 OK"

    def __enter__(self) -> SlowSmtp:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


def settings_for(database_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_starttls=False,
        outbox_mail_dir=tmp_path / "mail",
    )


def enqueue_emails(database_url: str, count: int) -> None:
    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        for n in range(count):
            payload = {"to": ["rep@example.test"], "subject": f"item {n}", "text": "x"}
            enqueue(session, "email", "booking", payload)


def items(database_url: str) -> list:
    with unit_of_work(make_session_factory(make_engine(database_url))) as session:
        return list(session.execute(select(OutboxItem).order_by(OutboxItem.id)).scalars())


def test_two_workers_with_a_one_second_claim_and_a_slow_smtp_server_send_each_once(
    database_url: str, tmp_path: Path
) -> None:
    count = 8
    enqueue_emails(database_url, count)
    with SlowSmtp(delay=1.5) as smtp:  # every send outlasts the 1-second claim
        settings = settings_for(database_url, tmp_path, smtp.port)
        workers = [
            Worker(
                Outbox(make_engine(database_url), claim_seconds=1.0),
                Dispatcher.from_settings(settings),
                # One worker's items wait in its batch longer than the claim while the other,
                # claiming one at a time, keeps looking for expired claims.
                batch=batch,
            )
            for batch in (4, 1)
        ]
        barrier = threading.Barrier(2)
        reports = [None, None]

        def run(index: int) -> None:
            barrier.wait()
            reports[index] = workers[index].run_once()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert smtp.subjects == Counter({f"item {n}": 1 for n in range(count)})
    assert sum(r.delivered for r in reports) == count and all(r.delivered for r in reports)
    rows = items(database_url)
    assert {(row.status, row.attempts, row.claimed_by) for row in rows} == {("sent", 1, None)}


def test_only_the_claims_owner_settles_an_item(sqlite_url: str) -> None:
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    enqueue_emails(sqlite_url, 1)
    now = utc_now()
    mine, other = Outbox(make_engine(sqlite_url)), Outbox(make_engine(sqlite_url))
    [claimed] = mine.claim(now)
    assert other.claim(now) == []
    assert other.mark_sent(claimed.id, now) is False
    assert other.mark_failed(claimed.id, now, "HTTP 500") == "lost"
    assert other.renew(now) == 0
    [row] = items(sqlite_url)
    assert (row.status, row.attempts, row.claimed_by) == ("sending", 0, mine.owner)
    assert mine.renew(now) == 1
    assert mine.mark_sent(claimed.id, now) is True
    assert mine.mark_sent(claimed.id, now) is False  # settled once


def test_an_unexpected_error_counts_as_an_attempt_and_nothing_stays_sending(
    sqlite_url: str, tmp_path: Path
) -> None:
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    enqueue_emails(sqlite_url, 2)

    class Broken(EmailDelivery):
        def deliver(self, payload, item_id=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("jane@example.test broke it")  # must not be stored

    settings = Settings(database_url=sqlite_url, outbox_mail_dir=tmp_path)
    clock = Clock(utc_now())
    worker = Worker(
        Outbox(make_engine(sqlite_url), rng=lambda: 0.0),
        Dispatcher(Broken(settings), WebhookDelivery()),
        clock=clock,
    )
    report = worker.run_once()
    assert report.retrying == 2 and report.delivered == 0
    rows = items(sqlite_url)
    assert {(r.status, r.attempts, r.last_error) for r in rows} == {("pending", 1, "RuntimeError")}


def test_a_twelve_hour_smtp_outage_loses_nothing_with_the_default_settings(
    sqlite_url: str, tmp_path: Path
) -> None:
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    port = free_port()  # nothing listens there yet: connection refused, like a dead server
    settings = settings_for(sqlite_url, tmp_path, port)
    clock = Clock()
    outbox = build_services(settings, clock).outbox  # the configured defaults
    worker = Worker(outbox, Dispatcher.from_settings(settings), clock=clock)
    with unit_of_work(make_session_factory(make_engine(sqlite_url))) as session:
        payload = {"to": ["rep@example.test"], "subject": "booked", "text": "x"}
        enqueue(session, "email", "booking", payload, now=clock())
    started = clock()
    while clock() - started < timedelta(hours=12):
        report = worker.run_once()
        assert report.failed == 0 and report.delivered == 0
        clock.advance(minutes=5)
    [row] = items(sqlite_url)
    assert row.status == "pending" and row.attempts > settings.outbox_max_attempts
    with _smtp_on(port) as smtp:
        clock.advance(seconds=settings.outbox_max_backoff_s)
        assert worker.run_once().delivered == 1
    assert smtp.subjects == Counter({"booked": 1})


def _smtp_on(port: int) -> SlowSmtp:
    smtp = SlowSmtp(delay=0)
    smtp.port = port
    smtp.controller = Controller(smtp, hostname="127.0.0.1", port=port)
    return smtp


def test_outbox_retry_queues_failed_deliveries_again(sqlite_url: str) -> None:
    from bot.storage.migrate import upgrade

    upgrade(sqlite_url)
    enqueue_emails(sqlite_url, 1)
    outbox = Outbox(make_engine(sqlite_url), max_attempts=1)
    [claimed] = outbox.claim(utc_now())
    assert outbox.mark_failed(claimed.id, utc_now(), "SMTP 550") == "failed"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "outbox", "retry"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, DATABASE_URL=sqlite_url),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("1 failed deliveries queued again")
    [row] = items(sqlite_url)
    assert (row.status, row.attempts) == ("pending", 0)


class SmtpThatTakesTheDatabaseAway(SlowSmtp):
    """Accepts each message; while accepting the first, the leads database stops taking
    connections (as in a PostgreSQL restart), so the worker cannot record that it was sent."""

    def __init__(self, database: str) -> None:
        super().__init__(delay=0)
        self.database = database
        self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        self.database_gone = threading.Event()

    def set_connections(self, allowed: bool) -> None:
        with self.admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
            if not allowed:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": self.database},
                )

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if not self.database_gone.is_set():
            self.set_connections(False)
            self.database_gone.set()
        return await super().handle_DATA(server, session, envelope)


def test_a_database_outage_mid_batch_delays_nothing_and_sends_nothing_twice(
    postgres_url: str, tmp_path: Path
) -> None:
    """The worker lives on through the outage, renewing its claims: what it had claimed must
    come back at its next round, not after the claim expires (it never would), and the email
    it sent but could not record must not be sent again."""
    from bot.storage.migrate import upgrade

    upgrade(postgres_url)
    count = 4
    enqueue_emails(postgres_url, count)
    with SmtpThatTakesTheDatabaseAway(postgres_url.rsplit("/", 1)[1]) as smtp:
        settings = settings_for(postgres_url, tmp_path, smtp.port)
        worker = Worker(
            Outbox(make_engine(postgres_url), claim_seconds=3.0),
            Dispatcher.from_settings(settings),
            poll_seconds=0.2,
            batch=count,
        )
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            assert smtp.database_gone.wait(30)
            time.sleep(2)  # a few rounds fail while the database is away
            smtp.set_connections(True)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                rows = items(postgres_url)
                if all(row.status == "sent" for row in rows):
                    break
                time.sleep(0.2)
        finally:
            worker.stop()
            thread.join(30)
            smtp.set_connections(True)
            smtp.admin.dispose()
    assert smtp.subjects == Counter({f"item {n}": 1 for n in range(count)})
    assert {(row.status, row.attempts, row.claimed_by) for row in items(postgres_url)} == {
        ("sent", 1, None)
    }
