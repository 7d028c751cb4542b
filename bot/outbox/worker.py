"""`python -m bot worker`: queues due nurture steps and delivers the outbox, with retries;
once a day it also applies the retention rules (bot.leads.retention).

The clock is injected (`clock: Callable[[], datetime]`) so tests can move time forward.
SIGINT/SIGTERM finish the current delivery and stop; nothing is lost (a claimed item whose
worker died is claimed again when its claim expires). A live worker whose database went away in
the middle of a batch keeps each outcome it could not record and records it first when the
database is back, then gives back the rest of that batch at once: its claims are renewed while
it lives, so nobody else would ever take them, and an email sent is never sent again.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.booking.calendars import CalendarSync
from bot.clock import utc_now
from bot.nurture.service import NurtureService
from bot.outbox.delivery import DeliveryResult, Dispatcher
from bot.outbox.queue import Outbox
from bot.storage.enums import DeliveryStatus

log = logging.getLogger(__name__)


@dataclass
class WorkerReport:
    nurture_queued: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    calendars_refreshed: int = 0


@dataclass(eq=False, repr=False)
class Worker:
    outbox: Outbox
    dispatcher: Dispatcher
    nurture: NurtureService | None = None
    clock: Callable[[], datetime] = utc_now
    poll_seconds: float = 5.0
    batch: int = 20
    retention: Callable[[], Any] | None = None
    retention_every: timedelta = timedelta(days=1)
    calendars: CalendarSync | None = None

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self._retention_due: datetime | None = None  # None: at the first round
        # Outcomes of deliveries made while the database could not record them, by item id.
        self._unrecorded: dict[int, DeliveryResult] = {}

    def _apply_retention(self) -> None:
        now = self.clock()
        if self.retention is None or (self._retention_due and now < self._retention_due):
            return
        self._retention_due = now + self.retention_every
        try:
            log.info("%s", self.retention().render())
        except Exception:  # noqa: BLE001 - tried again next time; deliveries go on
            log.exception("retention failed; trying again in %s", self.retention_every)

    def run_once(self) -> WorkerReport:
        """Refresh due calendar feeds, queue due nurture steps, then deliver everything due."""
        report = WorkerReport()
        self._apply_retention()
        if self.calendars is not None:
            report.calendars_refreshed = self.calendars.refresh_due().refreshed
        if self.nurture is not None:
            report.nurture_queued = self.nurture.queue_due()
        self._recover_interrupted_batch(report)
        with self.outbox.holding_claims(self.clock):  # a slow send keeps its claim
            while not self.stopping.is_set():
                claimed = self.outbox.claim(self.clock(), self.batch)
                if not claimed:
                    break
                for index, item in enumerate(claimed):
                    if self.stopping.is_set():  # give the rest back: due again at once
                        self.outbox.release([rest.id for rest in claimed[index:]])
                        break
                    self._deliver(item, report)
        return report

    def _deliver(self, item, report: WorkerReport) -> None:  # type: ignore[no-untyped-def]
        try:
            result = self.dispatcher.deliver(item)
        except Exception as error:  # noqa: BLE001 - counted as an attempt, never left 'sending'
            log.warning("outbox item %s: %s while delivering", item.id, type(error).__name__)
            result = DeliveryResult.failed(error)
        try:
            self._record(item.id, result, report)
        except Exception:
            self._unrecorded[item.id] = result  # recorded at the next round, never re-sent
            raise

    def _recover_interrupted_batch(self, report: WorkerReport) -> None:
        """Record what an earlier round delivered but could not write down, then give back
        the items that round claimed and never attempted. Between rounds this worker sends
        nothing, so every claim it still holds is one of those."""
        for item_id, result in list(self._unrecorded.items()):
            self._record(item_id, result, report)
            del self._unrecorded[item_id]
        released = self.outbox.release_mine()
        if released:
            log.warning("gave back %d outbox items an interrupted round had claimed", released)

    def _record(self, item_id: int, result: DeliveryResult, report: WorkerReport) -> None:
        if result.ok:
            if self.outbox.mark_sent(item_id, self.clock()):
                report.delivered += 1
            return
        status = self.outbox.mark_failed(item_id, self.clock(), result.error or "?")
        if status == DeliveryStatus.FAILED:
            report.failed += 1
        elif status == DeliveryStatus.PENDING:
            report.retrying += 1

    def run(self) -> None:
        """Loop until `stop()` (or a signal); sleeps `poll_seconds` between rounds."""
        while not self.stopping.is_set():
            try:
                report = self.run_once()
                if report.delivered or report.failed or report.nurture_queued:
                    log.info("worker round: %s", report)
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker
                log.exception("worker round failed; retrying after the poll interval")
            self.stopping.wait(self.poll_seconds)

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)


def build_worker(settings, clock: Callable[[], datetime] = utc_now) -> Worker:  # type: ignore[no-untyped-def]
    """A worker wired from settings: outbox, SMTP/folder email, webhooks, nurture."""
    from bot.services import build_services

    services = build_services(settings, clock)
    return Worker(
        services.outbox,
        Dispatcher.from_settings(settings),
        services.nurture,
        clock,
        settings.worker_poll_seconds,
        retention=services.run_retention,
        calendars=services.calendars,
    )


def main(settings, once: bool = False) -> int:  # type: ignore[no-untyped-def]
    from bot.runtime.privacy_log import install_log_redaction

    logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s")
    install_log_redaction(settings.log_level)  # DEBUG for our code only, redacted either way
    worker = build_worker(settings)
    worker.install_signal_handlers()
    try:
        if once:
            report = worker.run_once()
            print(
                f"nurture queued {report.nurture_queued}, delivered {report.delivered}, "
                f"retrying {report.retrying}, failed {report.failed}"
            )
        else:
            log.info("worker started (poll every %ss); Ctrl-C stops", worker.poll_seconds)
            worker.run()
            log.info("worker stopped")
    finally:
        worker.dispatcher.close()
    return 0
