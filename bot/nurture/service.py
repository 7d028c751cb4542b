"""Nurture sequences: follow-up emails for leads who said yes to them, sent by the worker.

Nothing is ever sent without nurture consent. Each step is sent at most once per enrollment,
even with several workers: a worker claims a step with a conditional UPDATE on the enrollment
(`next_step = n` -> `n + 1`), and `nurture_sends` has a UNIQUE (enrollment, step) as a second
guard. Sending stops when the lead unsubscribes, revokes consent, books a meeting or is erased.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import KW_ONLY, InitVar, dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.config.yamlfile import ConfigError, Reader, items
from bot.crm import events as crm_events
from bot.leads.store import find_lead, record_consent
from bot.outbox.queue import enqueue
from bot.storage.engine import by_token, make_session_factory, unit_of_work
from bot.storage.enums import (
    ConsentPurpose,
    DeliveryPurpose,
    DeliveryStatus,
    EnrollmentStatus,
    Outcome,
    Tier,
)
from bot.storage.models import Lead, NurtureEnrollment, NurtureSend, OutboxItem
from bot.web.urls import PublicUrls

# site_url: the company's website (SITE_URL); base_url: the bot's own web process.
VARIABLES = frozenset({"first_name", "name", "company", "unsubscribe_url", "base_url", "site_url"})
CHANNELS = ("email", "webhook")
_DELAY = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class NurtureConfigError(ConfigError):
    """config/nurture.yml cannot be used; the message names the line and the problem."""


@dataclass(frozen=True)
class Step:
    id: str
    delay: timedelta  # after enrolment
    channel: str
    subject: str
    body: str


@dataclass(frozen=True)
class NurtureSequence:
    id: str
    tiers: Tuple[str, ...]
    steps: Tuple[Step, ...]


@dataclass(frozen=True)
class NurtureConfig:
    sequences: Mapping[str, NurtureSequence]
    default_sequence: str

    def for_tier(self, tier: str | None) -> NurtureSequence:
        for sequence in self.sequences.values():
            if tier and tier in sequence.tiers:
                return sequence
        return self.sequences[self.default_sequence]


class EnrollResult(str, Enum):
    ENROLLED = "enrolled"
    ALREADY = "already_enrolled"
    NO_CONSENT = "no_consent"  # nothing stored, nothing ever sent; outcome stays 'none'
    NO_LEAD = "no_lead"
    BOOKED = "booked"


class _Values(dict):
    def __missing__(self, key: str) -> str:
        name, _, fallback = key.partition("|")  # {first_name|there}: "there" when unknown
        return (self.get(name) if name != key else "") or fallback


def render(template: str, values: Mapping[str, Any]) -> str:
    """Fill `{name}`-style variables; `{name|words}` shows the words when the value is unknown
    (the wording lives in the template, config/nurture.yml); unknown ones become empty text."""
    return template.format_map(_Values({k: "" if v is None else v for k, v in values.items()}))


@dataclass(eq=False, repr=False)
class NurtureService:
    engine: InitVar[Engine]
    config: NurtureConfig
    clock: Clock
    urls: PublicUrls
    _: KW_ONLY
    consent_version: str
    site_url: str = ""

    def __post_init__(self, engine: Engine) -> None:
        self._sessions = make_session_factory(engine)
        self.site_url = (self.site_url or self.urls.site).rstrip("/")

    def unsubscribe_url(self, token: str) -> str:
        return self.urls.unsubscribe(token)

    def enroll(self, conversation_id: str) -> EnrollResult:
        """Put the lead on the sequence for its tier, only with nurture consent."""
        now = self.clock()
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            if lead is None:
                return EnrollResult.NO_LEAD
            if not lead.nurture_consent:
                return EnrollResult.NO_CONSENT
            if lead.outcome == Outcome.MEETING_BOOKED:
                return EnrollResult.BOOKED
            existing = session.execute(
                select(NurtureEnrollment).where(
                    NurtureEnrollment.conversation_id == conversation_id
                )
            ).scalar_one_or_none()
            if existing is not None:
                return EnrollResult.ALREADY
            sequence = self.config.for_tier(lead.tier)
            session.add(
                NurtureEnrollment(
                    conversation_id=conversation_id,
                    sequence=sequence.id,
                    status=EnrollmentStatus.ACTIVE,
                    unsubscribe_token=secrets.token_urlsafe(24),
                    next_step=0,
                    next_due_at=now + sequence.steps[0].delay,
                    enrolled_at=now,
                )
            )
            lead.outcome = Outcome.NURTURE
            crm_events.lead_nurtured(session, lead, sequence.id, now)
            try:
                session.flush()
            except IntegrityError:  # enrolled concurrently
                session.rollback()
                return EnrollResult.ALREADY
        return EnrollResult.ENROLLED

    def stop(self, conversation_id: str, reason: str) -> bool:
        """Stop the sequence (e.g. 'consent_revoked') and cancel its unsent emails."""
        with unit_of_work(self._sessions) as session:
            return stop_enrollment(session, conversation_id, reason, self.clock())

    def subscription_state(self, token: str) -> str:
        """What an unsubscribe link points at, changing nothing (a GET must not unsubscribe):
        "active" (ask), "unsubscribed" (already done) or "unknown"."""
        if not token:
            return "unknown"
        with unit_of_work(self._sessions) as session:
            row = session.execute(
                select(NurtureEnrollment.status, NurtureEnrollment.stop_reason).where(
                    NurtureEnrollment.unsubscribe_token == token
                )
            ).first()
        if row is None:
            return "unknown"
        status, reason = row
        unsubscribed = status == EnrollmentStatus.STOPPED and reason == "unsubscribed"
        return "unsubscribed" if unsubscribed else "active"

    def unsubscribe(self, token: str) -> bool:
        """The unsubscribe link: stop the sequence, revoke nurture consent (recorded)."""
        if not token:
            return False
        now = self.clock()
        with unit_of_work(self._sessions) as session:
            enrollment = by_token(session, NurtureEnrollment.unsubscribe_token, token)
            if enrollment is None:
                return False
            if enrollment.status == EnrollmentStatus.ACTIVE:
                enrollment.status, enrollment.stop_reason = EnrollmentStatus.STOPPED, "unsubscribed"
                enrollment.stopped_at, enrollment.next_due_at = now, None
            lead = find_lead(session, enrollment.conversation_id)
            if lead is not None and lead.nurture_consent:
                lead.nurture_consent = False
                record_consent(
                    session,
                    enrollment.conversation_id,
                    ConsentPurpose.NURTURE,
                    False,
                    self.consent_version,
                    now,
                )
            _cancel_pending(session, enrollment.conversation_id)
            return True

    def queue_due(self, limit: int = 100) -> int:
        """Queue every due step into the outbox (exactly once each); returns how many."""
        now = self.clock()
        with unit_of_work(self._sessions) as session:
            due = session.execute(
                select(NurtureEnrollment.id, NurtureEnrollment.next_step)
                .where(
                    NurtureEnrollment.status == EnrollmentStatus.ACTIVE,
                    NurtureEnrollment.next_due_at <= now,
                )
                .order_by(NurtureEnrollment.next_due_at)
                .limit(limit)
            ).all()
        return sum(self._queue_step(enrollment_id, step, now) for enrollment_id, step in due)

    def _queue_step(self, enrollment_id: int, step_index: int, now: datetime) -> int:
        try:
            with unit_of_work(self._sessions) as session:
                # Claim first: only one transaction can move next_step from n to n + 1.
                claimed = session.execute(
                    update(NurtureEnrollment)
                    .where(
                        NurtureEnrollment.id == enrollment_id,
                        NurtureEnrollment.status == EnrollmentStatus.ACTIVE,
                        NurtureEnrollment.next_step == step_index,
                    )
                    .values(next_step=step_index + 1)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if claimed != 1:
                    return 0
                enrollment = session.get(NurtureEnrollment, enrollment_id)
                lead = find_lead(session, enrollment.conversation_id)
                reason = (
                    "erased"
                    if lead is None
                    else "consent_revoked"
                    if not lead.nurture_consent
                    else "booked"
                    if lead.outcome == Outcome.MEETING_BOOKED
                    else None
                )
                sequence = self.config.sequences.get(enrollment.sequence)
                if reason is None and (sequence is None or step_index >= len(sequence.steps)):
                    reason = "sequence_changed"
                if reason:
                    enrollment.status, enrollment.stop_reason = EnrollmentStatus.STOPPED, reason
                    enrollment.stopped_at, enrollment.next_due_at = now, None
                    return 0
                step = sequence.steps[step_index]
                session.add(
                    NurtureSend(
                        enrollment_id=enrollment.id, step=step_index, step_id=step.id, queued_at=now
                    )
                )
                self._enqueue(session, lead, enrollment, step, now)
                if step_index + 1 < len(sequence.steps):
                    following = sequence.steps[step_index + 1]
                    enrollment.next_due_at = enrollment.enrolled_at + following.delay
                else:
                    enrollment.status, enrollment.next_due_at = EnrollmentStatus.COMPLETED, None
                return 1
        except IntegrityError:  # the unique (enrollment, step): another worker sent it
            return 0

    def _enqueue(
        self,
        session: Any,
        lead: Lead,
        enrollment: NurtureEnrollment,
        step: Step,
        now: datetime,
    ) -> None:
        url = self.unsubscribe_url(enrollment.unsubscribe_token)
        values: Dict[str, Any] = {
            "first_name": lead.name.split()[0] if lead.name else "",
            "name": lead.name or "",
            "company": lead.company or "",
            "unsubscribe_url": url,
            "base_url": self.urls.site,
            "site_url": self.site_url,
        }
        if step.channel == "email":
            payload = {
                "to": [lead.email],
                "subject": render(step.subject, values),
                "text": render(step.body, values),
                "headers": {
                    "List-Unsubscribe": f"<{url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            }
            enqueue(session, "email", DeliveryPurpose.NURTURE, payload, lead.conversation_id, now)
        else:  # a signed CRM event (bot/crm), delivered to the configured CRM targets
            subject = render(step.subject, values)
            crm_events.nurture_step(session, lead, enrollment.sequence, step.id, subject, now)


def stop_enrollment(session: Any, conversation_id: str, reason: str, now: datetime) -> bool:
    """In the caller's transaction: stop the lead's sequence and cancel its unsent emails."""
    stopped = session.execute(
        update(NurtureEnrollment)
        .where(
            NurtureEnrollment.conversation_id == conversation_id,
            NurtureEnrollment.status == EnrollmentStatus.ACTIVE,
        )
        .values(
            status=EnrollmentStatus.STOPPED, stop_reason=reason, stopped_at=now, next_due_at=None
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    _cancel_pending(session, conversation_id)
    return bool(stopped)


def _cancel_pending(session: Any, conversation_id: str) -> None:
    session.execute(
        delete(OutboxItem)
        .where(
            OutboxItem.conversation_id == conversation_id,
            OutboxItem.purpose == DeliveryPurpose.NURTURE,
            OutboxItem.status == DeliveryStatus.PENDING,
        )
        .execution_options(synchronize_session=False)
    )


# -- loading and validation ---------------------------------------------------------------


def parse_delay(text: Any) -> timedelta | None:
    match = _DELAY.match(str(text)) if isinstance(text, (str, int)) else None
    if not match:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _check_template(reader: Reader, line: int, template: str, what: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as error:
        raise reader.fail(
            line, f"{what}: {error} (write {{{{ and }}}} for literal braces)"
        ) from error
    for name in (field.partition("|")[0] for field in fields):
        if name not in VARIABLES:
            raise reader.fail(
                line,
                f"{what} uses unknown variable {{{name}}} "
                f"(available: {', '.join(sorted(VARIABLES))})",
            )


def load_nurture(path: Path) -> NurtureConfig:
    """Read and validate the nurture file."""
    reader = Reader(path, NurtureConfigError)
    doc = reader.load()
    reader.only_keys(doc, ("default_sequence", "sequences"), "the nurture file")
    raw_sequences = reader.mapping(doc, "sequences")
    sequences: Dict[str, NurtureSequence] = {}
    for sequence_id, raw in raw_sequences.items():
        where = raw_sequences.line_of(sequence_id)
        if not isinstance(raw, dict):
            raise reader.fail(where, f"sequence '{sequence_id}' must be a mapping")
        reader.only_keys(raw, ("tiers", "steps"), f"sequence '{sequence_id}'")
        tiers = tuple(str(t) for t in reader.sequence(raw, "tiers", required=False))
        for tier in tiers:
            if tier not in {tier.value for tier in Tier}:
                raise reader.fail(raw.line_of("tiers"), f"unknown tier '{tier}'")
        steps: list[Step] = []
        raw_steps = reader.sequence(raw, "steps")
        if not raw_steps:
            raise reader.fail(raw.line_of("steps"), f"sequence '{sequence_id}' has no steps")
        for line, step in items(raw_steps):
            if not isinstance(step, dict):
                raise reader.fail(line, "each step must be a mapping")
            reader.only_keys(step, ("id", "delay", "channel", "subject", "body"), "a step")
            step_id = reader.text(step, "id", "step id")
            if any(s.id == step_id for s in steps):
                raise reader.fail(step.line_of("id"), f"step '{step_id}' is defined twice")
            delay = parse_delay(step.get("delay"))
            if delay is None:
                raise reader.fail(
                    step.line_of("delay"),
                    f"step '{step_id}' delay {step.get('delay')!r} is not like 30m, 2h, 3d, 2w",
                )
            if steps and delay < steps[-1].delay:
                raise reader.fail(
                    step.line_of("delay"),
                    f"step '{step_id}' comes before step '{steps[-1].id}' (delays are counted "
                    "from enrolment, so they must not decrease)",
                )
            channel = step.get("channel", "email")
            if channel not in CHANNELS:
                raise reader.fail(step.line_of("channel"), f"unknown channel {channel!r}")
            subject = reader.text(step, "subject", f"step '{step_id}' subject")
            body = reader.text(step, "body", f"step '{step_id}' body")
            _check_template(reader, step.line_of("subject"), subject, f"step '{step_id}' subject")
            _check_template(reader, step.line_of("body"), body, f"step '{step_id}' body")
            if channel == "email" and "{unsubscribe_url}" not in body:
                raise reader.fail(
                    step.line_of("body"), f"step '{step_id}' email has no {{unsubscribe_url}} link"
                )
            steps.append(Step(step_id, delay, channel, subject, body))
        sequences[sequence_id] = NurtureSequence(sequence_id, tiers, tuple(steps))
    default = reader.text(doc, "default_sequence", "default_sequence")
    if default not in sequences:
        raise reader.fail(doc.line_of("default_sequence"), f"no sequence named '{default}'")
    return NurtureConfig(sequences, default)
