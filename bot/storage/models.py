"""SQLAlchemy models: leads, their answers, consent records and the anonymous erasure audit.

Schema changes go through Alembic migrations in `bot/migrations/versions/`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base, relationship

from bot.clock import utc_now
from bot.storage.enums import (
    DeliveryStatus,
    EnrollmentStatus,
    HandoffState,
    LeadStatus,
    MeetingStatus,
    Outcome,
)

Base = declarative_base()


class UTCDateTime(TypeDecorator):
    """Stores aware UTC datetimes; SQLite forgets the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Leadbot stores UTC-aware datetimes only")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Lead(Base):
    """One visitor who consented to be contacted, keyed by the Rasa sender id."""

    __tablename__ = "leads"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True, index=True)
    name = Column(String(200))
    email = Column(String(320))
    email_free_mail = Column(Boolean)
    role = Column(String(200))
    seniority = Column(String(20))
    company = Column(String(200))
    company_size = Column(Integer)
    budget_usd = Column(Integer)
    timeline_months = Column(Integer)
    consent_at = Column(UTCDateTime, nullable=False)
    consent_version = Column(String(40), nullable=False)
    nurture_consent = Column(Boolean, nullable=False, default=False)
    score = Column(Integer)
    tier = Column(String(40))
    outcome = Column(String(20), nullable=False, default=Outcome.NONE)
    meeting_start = Column(UTCDateTime)
    rep_email = Column(String(320))
    source = Column(JSON)
    # in_progress -> complete; paused when the visitor says "not now" mid-form.
    status = Column(String(20), nullable=False, default=LeadStatus.IN_PROGRESS)
    needs_human = Column(Boolean, nullable=False, default=False)
    handoff_requested_at = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False, default=utc_now)
    updated_at = Column(UTCDateTime, nullable=False, default=utc_now, onupdate=utc_now)
    # The scoring rules that fired: [{"rule", "points", "reason"}] (bot.scoring.RuleHit).
    score_breakdown = Column(JSON)
    # The id the outside world (CRM events) knows the lead by: random, never the sender id.
    public_id = Column(String(32), unique=True, default=lambda: new_public_id())

    answers = relationship(
        "LeadAnswer", back_populates="lead", cascade="all, delete-orphan", passive_deletes=True
    )


class LeadAnswer(Base):
    """The visitor's latest answer to one question, as typed and as understood."""

    __tablename__ = "lead_answers"
    __table_args__ = (UniqueConstraint("lead_id", "slot", name="uq_lead_answers_lead_slot"),)

    id = Column(Integer, primary_key=True)
    lead_id = Column(
        Integer, ForeignKey("leads.id", ondelete="CASCADE"), nullable=False, index=True
    )
    slot = Column(String(40), nullable=False)
    raw_text = Column(Text)
    # ok | declined | unknown (see bot.answers.Status)
    status = Column(String(20), nullable=False)
    # How many times this answer was changed after first given (corrections).
    corrections = Column(Integer, nullable=False, default=0)
    answered_at = Column(UTCDateTime, nullable=False, default=utc_now)

    lead = relationship("Lead", back_populates="answers")


class ConsentRecord(Base):
    """Proof of consent: which text version, for which purpose, when, in which conversation."""

    __tablename__ = "consent_records"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    # contact: store the answers and be contacted about this request; nurture: follow-up emails
    purpose = Column(String(20), nullable=False)
    granted = Column(Boolean, nullable=False)
    text_version = Column(String(40), nullable=False)
    recorded_at = Column(UTCDateTime, nullable=False, default=utc_now)


class ErasureAudit(Base):
    """That an erasure happened, and nothing about whom: no id, no text, only counts."""

    __tablename__ = "erasure_audit"

    id = Column(Integer, primary_key=True)
    erased_at = Column(UTCDateTime, nullable=False, default=utc_now)
    leads_erased = Column(Integer, nullable=False)
    consent_records_erased = Column(Integer, nullable=False)


def new_public_id() -> str:
    return secrets.token_hex(12)


class Meeting(Base):
    """A meeting. The unique (rep, start) pair among *booked* meetings is what makes double
    booking impossible (a cancelled meeting frees its time)."""

    __tablename__ = "meetings"
    __table_args__ = (
        Index(
            "uq_meetings_rep_start_booked",
            "rep_email",
            "start_utc",
            unique=True,
            postgresql_where=text("status = 'booked'"),
            sqlite_where=text("status = 'booked'"),
        ),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    rep_email = Column(String(320), nullable=False)
    start_utc = Column(UTCDateTime, nullable=False)
    end_utc = Column(UTCDateTime, nullable=False)
    visitor_tz = Column(String(64))
    # Secret for the visitor's own invite link (/invite/<token>.ics).
    ics_token = Column(String(64), nullable=False, unique=True)
    created_at = Column(UTCDateTime, nullable=False, default=utc_now)
    status = Column(String(20), nullable=False, default=MeetingStatus.BOOKED)
    # iCalendar SEQUENCE: raised on every change (reschedule, cancel) of the same UID.
    sequence = Column(Integer, nullable=False, default=0)
    # Opaque id in the visitor's signed manage link (bot/booking/links.py).
    public_id = Column(String(32), nullable=False, unique=True, default=lambda: new_public_id())
    cancelled_at = Column(UTCDateTime)


class CalendarSource(Base):
    """The state of a rep's free/busy feed: when it was read, and whether that worked."""

    __tablename__ = "calendar_sources"

    rep_email = Column(String(320), primary_key=True)
    # sha256 of the feed URL: a changed URL in reps.yml is read again at once.
    url_hash = Column(String(64), nullable=False)
    fetched_at = Column(UTCDateTime)
    next_refresh_at = Column(UTCDateTime, nullable=False)
    ok = Column(Boolean, nullable=False, default=False)
    busy_count = Column(Integer, nullable=False, default=0)
    # Only the HTTP status or exception type: feed URLs carry secrets.
    last_error = Column(String(200))


class CalendarBusy(Base):
    """A busy interval from a rep's feed (recurrences expanded), replaced on every refresh."""

    __tablename__ = "calendar_busy"

    id = Column(Integer, primary_key=True)
    rep_email = Column(String(320), nullable=False, index=True)
    start_utc = Column(UTCDateTime, nullable=False)
    end_utc = Column(UTCDateTime, nullable=False)


class RoutingCursor(Base):
    """Round-robin position per segment; advanced with an UPDATE, so concurrent offers differ."""

    __tablename__ = "routing_cursors"

    segment = Column(String(64), primary_key=True)
    position = Column(Integer, nullable=False, default=0)


class OutboxItem(Base):
    """A delivery to make (email or webhook), written in the transaction that caused it."""

    __tablename__ = "outbox"

    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)  # email | webhook
    # booking | nurture: what caused it (unsubscribing cancels pending nurture items).
    purpose = Column(String(20), nullable=False)
    # Which conversation the payload is about, so erasure can delete it (null: nobody's).
    conversation_id = Column(String(255), index=True)
    payload = Column(JSON, nullable=False)
    status = Column(String(20), nullable=False, default=DeliveryStatus.PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, index=True)
    claimed_until = Column(UTCDateTime)
    # The worker holding the claim (Outbox.owner); only it may renew or settle the item.
    claimed_by = Column(String(64))
    # Only the endpoint's status or the exception type: never personal data.
    last_error = Column(String(200))
    created_at = Column(UTCDateTime, nullable=False, default=utc_now)
    sent_at = Column(UTCDateTime)


class NurtureEnrollment(Base):
    """A lead on a nurture sequence; `next_step` is the index of the next step to send."""

    __tablename__ = "nurture_enrollments"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True, index=True)
    sequence = Column(String(64), nullable=False)
    status = Column(String(20), nullable=False, default=EnrollmentStatus.ACTIVE)
    stop_reason = Column(String(40))
    unsubscribe_token = Column(String(64), nullable=False, unique=True)
    next_step = Column(Integer, nullable=False, default=0)
    next_due_at = Column(UTCDateTime, index=True)
    enrolled_at = Column(UTCDateTime, nullable=False, default=utc_now)
    stopped_at = Column(UTCDateTime)


class NurtureSend(Base):
    """One step sent to one enrollment: unique, so two workers can never send a step twice."""

    __tablename__ = "nurture_sends"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step", name="uq_nurture_sends_enrollment_step"),
    )

    id = Column(Integer, primary_key=True)
    enrollment_id = Column(
        Integer,
        ForeignKey("nurture_enrollments.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    step = Column(Integer, nullable=False)
    step_id = Column(String(64), nullable=False)
    queued_at = Column(UTCDateTime, nullable=False, default=utc_now)


class RepAccount(Base):
    """A sales rep who signs in to the inbox (bot/accounts); the password only as argon2id."""

    __tablename__ = "rep_accounts"

    id = Column(Integer, primary_key=True)
    email = Column(String(320), nullable=False, unique=True)
    password_hash = Column(String(255))
    created_at = Column(UTCDateTime, nullable=False, default=utc_now)
    password_set_at = Column(UTCDateTime)
    last_login_at = Column(UTCDateTime)


class RepSession(Base):
    """A signed-in browser: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "rep_sessions"

    id = Column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    account_id = Column(
        Integer, ForeignKey("rep_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utc_now)
    expires_at = Column(UTCDateTime, nullable=False, index=True)


class RepInvite(Base):
    """A one-time link to choose a password, sent by email; only the token's SHA-256 is kept."""

    __tablename__ = "rep_invites"

    id = Column(String(64), primary_key=True)
    account_id = Column(
        Integer, ForeignKey("rep_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = Column(UTCDateTime, nullable=False, default=utc_now)
    expires_at = Column(UTCDateTime, nullable=False)


class Handoff(Base):
    """A visitor asked for a person (or a call back): who it went to, and what became of it."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    # The id in inbox links and notifications: random, never the sender id.
    public_id = Column(String(32), nullable=False, unique=True, default=lambda: new_public_id())
    conversation_id = Column(String(255), nullable=False, index=True)
    kind = Column(String(20), nullable=False)  # HandoffKind
    state = Column(String(20), nullable=False, default=HandoffState.WAITING, index=True)
    # The rep it was routed to (notified); the rep who took it over, when someone did.
    rep_email = Column(String(320))
    taken_by = Column(String(320))
    requested_at = Column(UTCDateTime, nullable=False, default=utc_now)
    # Nobody took it by then: the bot says so (null: nobody is waited for).
    deadline_at = Column(UTCDateTime)
    taken_at = Column(UTCDateTime)
    ended_at = Column(UTCDateTime)
    # The questions were interrupted by the request: handing back resumes them.
    form_interrupted = Column(Boolean, nullable=False, default=False)
    # Why it was missed: timeout | off_hours (null otherwise).
    missed_reason = Column(String(20))


class HandoffPush(Base):
    """A message for the visitor's widget that no chat reply carries (a rep's message, or what
    the bot said on its own): the widget long-polls for these. The transcript is the tracker."""

    __tablename__ = "handoff_pushes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    # {"text", "buttons"?, "rep_name"?}: the shape of a chat reply, plus who wrote it.
    message = Column(JSON, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utc_now)
