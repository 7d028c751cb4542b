"""The composition root: every service of Leadbot wired from one `Settings`, in one place.

The action server, the web process, the worker and the CLI call `build_services()`; nothing
else constructs a service from settings, so the processes can't drift apart.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.booking.calendars import CalendarSync
from bot.booking.reps import RepsConfig, load_reps
from bot.booking.service import BookingService
from bot.clock import Clock, utc_now
from bot.config.secret import resolve_secret_key
from bot.config.settings import Settings
from bot.conversation.outcomes import Outcomes
from bot.conversation.questions import AnswerContext
from bot.crm import events as crm_events
from bot.handoff.service import HandoffService
from bot.leads.erasure import Eraser
from bot.leads.retention import RetentionReport, run_retention
from bot.leads.store import LeadStore
from bot.nurture.service import NurtureService, load_nurture
from bot.outbox.queue import Backoff, Outbox
from bot.scoring.rules import ScoringRules, load_rules
from bot.storage.engine import make_engine
from bot.web.urls import PublicUrls


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    engine: Engine
    urls: PublicUrls
    leads: LeadStore
    rules: ScoringRules
    reps: RepsConfig
    booking: BookingService
    nurture: NurtureService
    outbox: Outbox
    outcomes: Outcomes
    handoffs: HandoffService
    eraser: Eraser
    calendars: CalendarSync | None = None

    def answer_context(self) -> AnswerContext:
        """What the answer parsers need from outside: today, currency rates, email checks."""
        return AnswerContext(
            today=self.clock().date(),
            currency_rates=self.settings.currency_rates,
            check_deliverability=self.settings.check_email_deliverability,
        )

    def run_retention(self) -> RetentionReport:
        """Apply the retention rules now (the worker does it once a day)."""
        return run_retention(
            self.leads,
            self.settings.tracker_store_url,
            self.clock(),
            no_consent_days=self.settings.retention_no_consent_days,
            lead_days=self.settings.retention_days,
        )

    def close(self) -> None:
        self.engine.dispose()


def build_services(settings: Settings, clock: Clock = utc_now) -> Services:
    """Every service, sharing one engine. Config files are validated here: a broken file
    stops the process with its line named (`python -m bot score` checks scoring.yml alone)."""
    engine = make_engine(settings.database_url)
    if settings.crm_webhook_url or settings.hubspot_token:
        crm_events.enable(engine)
    urls = PublicUrls(settings.public_base_url)
    leads = LeadStore(engine)
    rules = load_rules(settings.scoring_file, settings.score_threshold)
    reps = load_reps(settings.reps_file)
    calendars = (
        CalendarSync(engine, reps, clock, refresh_seconds=settings.calendar_refresh_seconds)
        if any(rep.calendar_url for rep in reps.reps)
        else None
    )
    booking = BookingService(
        engine,
        reps,
        clock,
        urls,
        rep_webhook_url=settings.rep_webhook_url,
        calendars=calendars,
        secret=functools.cache(
            lambda: resolve_secret_key(settings.secret_key, settings.secret_key_file)
        ),
        site_url=settings.site_url,
    )
    nurture = NurtureService(
        engine,
        load_nurture(settings.nurture_file),
        clock,
        urls,
        consent_version=settings.consent_text_version,
        site_url=settings.site_url,
    )
    return Services(
        settings=settings,
        clock=clock,
        engine=engine,
        urls=urls,
        leads=leads,
        rules=rules,
        reps=reps,
        booking=booking,
        nurture=nurture,
        outbox=Outbox(
            engine,
            max_attempts=settings.outbox_max_attempts,
            backoff=Backoff(cap_seconds=settings.outbox_max_backoff_s),
            claim_seconds=settings.outbox_claim_seconds,
            retry_for=timedelta(hours=settings.outbox_retry_hours),
        ),
        outcomes=Outcomes(leads, rules, booking, nurture),
        handoffs=HandoffService(
            engine,
            reps,
            clock,
            urls,
            wait_seconds=settings.handoff_wait_seconds,
            sales_email=settings.sales_email,
            rep_webhook_url=settings.rep_webhook_url,
        ),
        eraser=Eraser(
            engine,
            leads,
            reps,
            clock,
            tracker_store_url=settings.tracker_store_url,
            outbox_mail_dir=settings.outbox_mail_dir,
        ),
        calendars=calendars,
    )
