"""Offering a rep's slots and booking one atomically, with the rep notified through the outbox.

`book()` is one transaction: the meeting row (UNIQUE (rep_email, start_utc): a second booking
of the same slot fails in the database, whichever process tries), the lead's outcome, and the
outbox rows that notify the rep (email with the .ics invite, optional Slack-compatible and CRM
webhooks). Either all of it happens or none; the visitor is never told "booked" otherwise.
"""

from __future__ import annotations

import secrets
from dataclasses import KW_ONLY, InitVar, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Tuple, Union

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import emails
from bot.booking import wording
from bot.booking.availability import Interval, format_slot, is_bookable, next_slots
from bot.booking.calendars import CalendarSync
from bot.booking.ics import Invite, cancel_calendar, feed_calendar, invite_calendar
from bot.booking.links import manage_token, meeting_for_token
from bot.booking.reps import Rep, RepsConfig, RoutingFacts, choose_segment, next_rep
from bot.clock import Clock
from bot.conversation.questions import QUESTION_LABELS, QUESTIONS, display_value
from bot.crm import events as crm_events
from bot.leads.store import find_lead
from bot.nurture.service import stop_enrollment
from bot.outbox.queue import enqueue
from bot.scoring.rules import SCORE_MAX
from bot.storage.engine import by_token, make_session_factory, unit_of_work
from bot.storage.enums import DeliveryPurpose, MeetingStatus, Outcome
from bot.storage.models import Lead, LeadAnswer, Meeting
from bot.web.urls import PublicUrls


class BookingError(Exception):
    """The request cannot be served (no lead: no consent; unknown rep)."""


@dataclass(frozen=True)
class Offer:
    rep: Rep
    segment: str
    slots: Tuple[datetime, ...]  # UTC, earliest first; empty when the rep has no free time

    def labels(self, visitor_tz: str | None) -> List[str]:
        return [format_slot(slot, visitor_tz) for slot in self.slots]


@dataclass(frozen=True)
class MeetingInfo:
    id: int
    conversation_id: str
    rep_email: str
    rep_name: str
    start_utc: datetime
    end_utc: datetime
    visitor_tz: str | None


@dataclass(frozen=True)
class Booked:
    meeting: MeetingInfo
    ics_token: str


@dataclass(frozen=True)
class SlotTaken:
    """Someone else got the slot first (or it is no longer offered): offer these instead."""

    rep_email: str
    start_utc: datetime
    alternatives: Tuple[datetime, ...]


@dataclass(frozen=True)
class AlreadyBooked:
    """The conversation has a booked meeting already (its first choice committed, then the
    turn's save to the tracker store failed and the visitor chose again): that meeting, to be
    confirmed as it was the first time. Nothing is written or sent again."""

    meeting: MeetingInfo
    ics_token: str


@dataclass(frozen=True)
class Managed:
    """The manage link's meeting. state: unknown (no such link) | booked | past | cancelled
    | cancelled_now | moved_now | taken (the time picked is gone: `slots` are fresh ones)."""

    state: str
    meeting: MeetingInfo | None = None
    slots: Tuple[datetime, ...] = ()


BookingResult = Union[Booked, SlotTaken, AlreadyBooked]


@dataclass(eq=False, repr=False)
class BookingService:
    engine: InitVar[Engine]
    reps: RepsConfig
    clock: Clock
    urls: PublicUrls
    _: KW_ONLY
    rep_webhook_url: str = ""
    offer_count: int = 3
    calendars: CalendarSync | None = None
    secret: InitVar[Callable[[], bytes] | None] = None
    site_url: str = ""

    def __post_init__(self, engine: Engine, secret: Callable[[], bytes] | None) -> None:
        self._sessions = make_session_factory(engine)
        # SECRET_KEY, resolved on first use (signs the visitor's manage links); without one,
        # a random key: links then work only for this instance (tests).
        own_key = secrets.token_bytes(32)
        self._secret = secret or (lambda: own_key)
        self.site_url = self.site_url or self.urls.site

    def invite_url(self, booked: Booked | AlreadyBooked) -> str:
        """The visitor's own link to the invite (.ics) of a booked meeting."""
        return self.urls.invite(booked.ics_token)

    def manage_url(self, meeting: Meeting) -> str:
        """The visitor's signed link to cancel the meeting or pick a new time."""
        return self.urls.meeting(manage_token(self._secret(), meeting.public_id))

    def manage_url_for(self, conversation_id: str) -> str | None:
        """The manage link of the conversation's booked meeting (None: nothing booked)."""
        with unit_of_work(self._sessions) as session:
            meeting = _booked_meeting(session, conversation_id)
            return self.manage_url(meeting) if meeting is not None else None

    # -- offering ----------------------------------------------------------------------------
    def offer(
        self,
        conversation_id: str,
        visitor_tz: str | None = None,
        after: datetime | None = None,
    ) -> Offer:
        """The lead's rep (routed once, then kept) and that rep's next free slots."""
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            if lead is None:
                raise BookingError("no lead for this conversation (no consent)")
            source = lead.source or {}
            facts = RoutingFacts(
                company_size=lead.company_size,
                visitor_tz=visitor_tz or source.get("timezone"),
                country=RoutingFacts.country_from_locale(source.get("locale")),
            )
            segment = choose_segment(self.reps, facts)
            rep = self.reps.rep(lead.rep_email) if lead.rep_email else None
            if rep is None:
                # Round-robin advance and the assignment commit together.
                rep = next_rep(session, self.reps, segment)
                lead.rep_email = rep.email
        busy = self.unavailable(rep)
        if busy is None:  # the rep's calendar can't be read: offer nothing rather than a guess
            return Offer(rep, segment.id, ())
        slots = next_slots(rep, self.clock(), busy, self.offer_count, after)
        return Offer(rep, segment.id, tuple(slots))

    def taken(self, rep_email: str) -> List[Interval]:
        """The rep's booked meetings from yesterday on, as (start, end) UTC intervals."""
        since = self.clock() - timedelta(days=1)
        with unit_of_work(self._sessions) as session:
            rows = session.execute(
                select(Meeting.start_utc, Meeting.end_utc).where(
                    Meeting.rep_email == rep_email,
                    Meeting.status == MeetingStatus.BOOKED,
                    Meeting.end_utc >= since,
                )
            ).all()
            return [(start, end) for start, end in rows]

    def unavailable(self, rep: Rep) -> List[Interval] | None:
        """Booked meetings plus the busy times of the rep's own calendar; None when the rep has
        a calendar feed that cannot be read (then no time is free)."""
        busy = self.calendars.busy(rep) if self.calendars is not None else []
        if busy is None:
            return None
        return self.taken(rep.email) + busy

    # -- booking -----------------------------------------------------------------------------
    def book(
        self,
        conversation_id: str,
        rep_email: str,
        start_utc: datetime,
        visitor_tz: str | None = None,
    ) -> BookingResult:
        """Book `start_utc` with the rep, atomically; SlotTaken if anyone else has it.

        Idempotent per conversation: one that has a booked meeting gets it back
        (`AlreadyBooked`, whatever time or rep it asks for now), so a visitor whose booking
        turn was answered with the apology (rasa_ext/tracker_store.py, `TurnNotSaved`) and who
        chooses again is told about the meeting they have, not offered others or booked twice.
        """
        rep = self.reps.rep(rep_email)
        if rep is None:
            raise BookingError("unknown rep")
        now = self.clock()
        start = start_utc.astimezone(timezone.utc)
        with unit_of_work(self._sessions) as session:
            existing = _booked_meeting(session, conversation_id)
            if existing is not None:
                return AlreadyBooked(self._info(existing), existing.ics_token)
        taken = self.unavailable(rep)
        if taken is None:
            return SlotTaken(rep.email, start, ())
        if any(begin == start for begin, _ in taken) or not is_bookable(rep, start, now, taken):
            return self._taken(rep, start, now)
        token = secrets.token_urlsafe(24)
        try:
            with unit_of_work(self._sessions) as session:
                # The insert comes first: it takes the write lock (SQLite) / index entry
                # (PostgreSQL) before anything is read, so the loser fails here.
                meeting = Meeting(
                    conversation_id=conversation_id,
                    rep_email=rep.email,
                    start_utc=start,
                    end_utc=start + timedelta(minutes=rep.meeting_minutes),
                    visitor_tz=visitor_tz,
                    ics_token=token,
                    created_at=now,
                )
                session.add(meeting)
                session.flush()
                lead = find_lead(session, conversation_id)
                if lead is None:
                    raise BookingError("no lead for this conversation (no consent)")
                lead.outcome, lead.meeting_start, lead.rep_email = (
                    Outcome.MEETING_BOOKED,
                    start,
                    rep.email,
                )
                lead.updated_at = now
                stop_enrollment(session, conversation_id, "booked", now)
                session.flush()  # the meeting's public id, for the manage link
                self._notify(session, lead, meeting, rep, now)
                info = self._info(meeting)
        except IntegrityError:
            return self._taken(rep, start, now)
        return Booked(info, token)

    def _taken(self, rep: Rep, start: datetime, now: datetime) -> SlotTaken:
        busy = self.unavailable(rep)
        alternatives = next_slots(rep, now, busy, self.offer_count) if busy is not None else []
        return SlotTaken(rep.email, start, tuple(alternatives))

    def _info(self, meeting: Meeting) -> MeetingInfo:
        rep = self.reps.rep(meeting.rep_email)
        return MeetingInfo(
            meeting.id,
            meeting.conversation_id,
            meeting.rep_email,
            rep.name if rep else meeting.rep_email,
            meeting.start_utc,
            meeting.end_utc,
            meeting.visitor_tz,
        )

    # -- notifications -----------------------------------------------------------------------
    def _invite(self, meeting: Meeting, rep: Rep, lead: Lead, now: datetime) -> Invite:
        manage = self.manage_url(meeting)
        return Invite(
            uid=f"meeting-{meeting.id}-{meeting.ics_token[:8]}@leadbot",
            start_utc=meeting.start_utc,
            end_utc=meeting.end_utc,
            summary=wording.text("invite_summary.txt", lead=lead, rep=rep),
            description=wording.text(
                "invite_description.txt", lead=lead, rep=rep, manage_url=manage
            ),
            organizer_email=rep.email,
            organizer_name=rep.name,
            attendee_email=lead.email,
            attendee_name=lead.name,
            stamp=now,
            url=manage,
            sequence=meeting.sequence or 0,
        )

    def _notify(
        self,
        session: Session,
        lead: Lead,
        meeting: Meeting,
        rep: Rep,
        now: datetime,
        change: str = "booked",
        previous_start: datetime | None = None,
    ) -> None:
        """In the caller's transaction: the rep's and the visitor's emails (each with the
        invite: REQUEST, or CANCEL when cancelled), the rep webhook and the CRM event."""
        answers = {
            a.slot: a.raw_text
            for a in session.execute(
                select(LeadAnswer).where(LeadAnswer.lead_id == lead.id)
            ).scalars()
        }
        invite = self._invite(meeting, rep, lead, now)
        cancelled = change == "cancelled"
        ics = cancel_calendar(invite) if cancelled else invite_calendar(invite)
        attachment = {
            "filename": "cancel.ics" if cancelled else "invite.ics",
            "content_type": f"text/calendar; method={'CANCEL' if cancelled else 'REQUEST'}",
            "content": ics,
        }
        variables = self._email_variables(lead, meeting, rep, change, previous_start)
        rep_email = emails.render(
            "meeting_rep.txt",
            **{
                **variables,
                "when": format_slot(meeting.start_utc, rep.timezone),
                "previous_when": format_slot(previous_start, rep.timezone)
                if previous_start
                else "",
                "details": lead_summary(lead, answers),
            },
        )

        def send_with_invite(email: emails.Email, to: str, reply_to: str | None) -> None:
            enqueue(
                session,
                "email",
                DeliveryPurpose.BOOKING,
                {
                    "to": [to],
                    "reply_to": reply_to,
                    "subject": email.subject,
                    "text": email.text,
                    "attachments": [attachment],
                },
                conversation_id=lead.conversation_id,
                now=now,
            )

        send_with_invite(rep_email, to=rep.email, reply_to=lead.email)
        if lead.email:
            send_with_invite(
                emails.render("meeting_visitor.txt", **variables), to=lead.email, reply_to=rep.email
            )
        if self.rep_webhook_url:
            when = format_slot(meeting.start_utc, rep.timezone)
            text = wording.text("rep_webhook.txt", rep=rep, lead=lead, change=change, when=when)
            enqueue(
                session,
                "webhook",
                "booking",
                {"integration": "rep", "url": self.rep_webhook_url, "body": {"text": text}},
                conversation_id=lead.conversation_id,
                now=now,
            )
        if cancelled:
            crm_events.meeting_cancelled(session, lead, meeting, now)
        else:
            crm_events.meeting_booked(session, lead, meeting, now, previous_start)

    def _email_variables(
        self,
        lead: Lead,
        meeting: Meeting,
        rep: Rep,
        change: str,
        previous_start: datetime | None,
    ) -> Dict[str, Any]:
        zone = meeting.visitor_tz
        return {
            "change": change,
            # Unknown name: the templates say who instead ("A website visitor", "Hi there").
            "visitor": lead.name or None,
            "first_name": next(iter((lead.name or "").split()), None),
            "rep_name": rep.name,
            "rep_email": rep.email,
            "when": format_slot(meeting.start_utc, zone),
            "previous_when": format_slot(previous_start, zone) if previous_start else "",
            "manage_url": self.manage_url(meeting),
            "invite_url": self.urls.invite(meeting.ics_token),
            "site_url": self.site_url,
        }

    # -- cancel and reschedule (the visitor's manage link) ------------------------------------
    def manage(self, token: str, slot_count: int = 8) -> Managed:
        """What the manage page shows for this link: the meeting and the free times."""
        now = self.clock()
        with unit_of_work(self._sessions) as session:
            meeting = self._meeting_for(session, token)
            if meeting is None:
                return Managed("unknown")
            info = self._info(meeting)
            state = self._state(meeting, now)
        rep = self.reps.rep(info.rep_email)
        slots: Tuple[datetime, ...] = ()
        if state == "booked" and rep is not None:
            busy = self.unavailable(rep)
            if busy is not None:
                slots = tuple(
                    slot
                    for slot in next_slots(rep, now, busy, slot_count)
                    if slot != info.start_utc
                )
        return Managed(state, info, slots)

    def cancel(self, token: str) -> Managed:
        """Cancel the meeting: frees its time; the rep gets METHOD:CANCEL (same UID, SEQUENCE
        + 1), the visitor a confirmation, the CRM `meeting.cancelled`; all in one transaction."""
        now = self.clock()
        with unit_of_work(self._sessions) as session:
            meeting = self._still_booked(session, token, now)
            if isinstance(meeting, Managed):
                return meeting
            lead = find_lead(session, meeting.conversation_id)
            rep = self.reps.rep(meeting.rep_email)
            meeting.status, meeting.cancelled_at = MeetingStatus.CANCELLED, now
            meeting.sequence = (meeting.sequence or 0) + 1
            if lead is not None:
                lead.outcome, lead.meeting_start, lead.updated_at = Outcome.NONE, None, now
                if rep is not None:
                    self._notify(session, lead, meeting, rep, now, change="cancelled")
            return Managed("cancelled_now", self._info(meeting))

    def reschedule(self, token: str, start_utc: datetime) -> Managed:
        """Move the meeting to `start_utc` if that time is free: the same meeting (UID) with
        SEQUENCE + 1, the old time freed; an updated REQUEST to the rep and the visitor, and
        `meeting.booked` (with `previous_start`) to the CRM. "taken" if someone got it first."""
        now = self.clock()
        start = start_utc.astimezone(timezone.utc)
        with unit_of_work(self._sessions) as session:
            meeting = self._still_booked(session, token, now)
            if isinstance(meeting, Managed):
                return meeting
            rep_email = meeting.rep_email
        rep = self.reps.rep(rep_email)
        taken = self.unavailable(rep) if rep is not None else None
        if rep is None or taken is None or not is_bookable(rep, start, now, taken):
            return self._retry(token, "taken")
        try:
            with unit_of_work(self._sessions) as session:
                meeting = self._meeting_for(session, token)
                if meeting is None or self._state(meeting, now) != "booked":
                    return Managed("unknown" if meeting is None else self._state(meeting, now))
                previous = meeting.start_utc
                if previous == start:
                    return Managed("moved_now", self._info(meeting))
                meeting.start_utc = start
                meeting.end_utc = start + timedelta(minutes=rep.meeting_minutes)
                meeting.sequence = (meeting.sequence or 0) + 1
                session.flush()  # the unique (rep, start) among booked meetings decides here
                lead = find_lead(session, meeting.conversation_id)
                if lead is not None:
                    lead.meeting_start, lead.updated_at = start, now
                    self._notify(
                        session, lead, meeting, rep, now, change="moved", previous_start=previous
                    )
                return Managed("moved_now", self._info(meeting))
        except IntegrityError:
            return self._retry(token, "taken")

    def _still_booked(self, session: Session, token: str, now: datetime) -> Meeting | Managed:
        """The meeting behind a manage link if it can still be changed; otherwise what the
        visitor is told instead (no such link, or the meeting is past or cancelled)."""
        meeting = self._meeting_for(session, token)
        if meeting is None:
            return Managed("unknown")
        state = self._state(meeting, now)
        if state != "booked":
            return Managed(state, self._info(meeting))
        return meeting

    def _retry(self, token: str, state: str) -> Managed:
        fresh = self.manage(token)
        return Managed(state, fresh.meeting, fresh.slots) if fresh.meeting else fresh

    def _meeting_for(self, session: Session, token: str) -> Meeting | None:
        public_id = meeting_for_token(self._secret(), token)
        if public_id is None:
            return None
        return session.execute(
            select(Meeting).where(Meeting.public_id == public_id)
        ).scalar_one_or_none()

    @staticmethod
    def _state(meeting: Meeting, now: datetime) -> str:
        if meeting.status == MeetingStatus.CANCELLED:
            return "cancelled"
        if meeting.start_utc <= now:
            return "past"
        return "booked"

    # -- calendars ---------------------------------------------------------------------------
    def invite_ics(self, token: str) -> str | None:
        """The visitor's invite for the meeting with this secret token (None: no such meeting)."""
        if not token:
            return None
        with unit_of_work(self._sessions) as session:
            meeting = by_token(session, Meeting.ics_token, token)
            if meeting is None:
                return None
            lead = find_lead(session, meeting.conversation_id)
            rep = self.reps.rep(meeting.rep_email)
            if lead is None or rep is None:
                return None
            invite = self._invite(meeting, rep, lead, meeting.cancelled_at or meeting.created_at)
            if meeting.status == MeetingStatus.CANCELLED:
                return cancel_calendar(invite)
            return invite_calendar(invite)

    def rep_feed_ics(self, rep_email: str) -> str | None:
        """The rep's upcoming meetings as a subscribable calendar feed."""
        rep = self.reps.rep(rep_email)
        if rep is None:
            return None
        since = self.clock() - timedelta(days=1)
        with unit_of_work(self._sessions) as session:
            rows = session.execute(
                select(Meeting, Lead)
                .join(Lead, Lead.conversation_id == Meeting.conversation_id)
                .where(
                    Meeting.rep_email == rep.email,
                    Meeting.status == MeetingStatus.BOOKED,
                    Meeting.end_utc >= since,
                )
                .order_by(Meeting.start_utc)
            ).all()
            invites = [self._invite(m, rep, lead, m.created_at) for m, lead in rows]
        return feed_calendar(wording.text("feed_name.txt", rep=rep), invites)


def lead_summary(lead: Lead, answers: Dict[str, str | None]) -> str:
    """The lead as text for a rep: normalised answers with what was typed, score, source
    (bot/booking/templates/lead_summary.txt). Each answer is worded as the visitor reads it
    back (`display_value`), so the rep's email and the chat say "45 people" alike."""
    numbers = {
        "company_size": lead.company_size,
        "budget": lead.budget_usd,
        "timeline": lead.timeline_months,
    }
    values = {
        "name": lead.name,
        "email": lead.email,
        "role": f"{lead.role} ({lead.seniority})" if lead.role else None,
        "company": lead.company,
        **{
            slot: display_value(slot, number) if number is not None else None
            for slot, number in numbers.items()
        },
    }
    rows = []
    for question in QUESTIONS:
        typed = answers.get(question)
        value = values.get(question)
        rows.append(
            {
                "label": QUESTION_LABELS[question],
                "value": value,
                "typed": typed if typed and typed != value else None,
            }
        )
    return wording.text("lead_summary.txt", lead=lead, answers=rows, score_max=SCORE_MAX)


def _booked_meeting(session: Session, conversation_id: str) -> Meeting | None:
    """The conversation's booked meeting (one at most), if any."""
    return session.execute(
        select(Meeting).where(
            Meeting.conversation_id == conversation_id,
            Meeting.status == MeetingStatus.BOOKED,
        )
    ).scalar_one_or_none()
