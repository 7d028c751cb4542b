"""Handoffs stored and moved: request (routed, queued, notified in one transaction), take over,
messages for the widget, hand back, close, the wait deadline, and a message left for a rep.

Every move is one short transaction, and the ones several people can race for (two reps
clicking "Take over", two processes expiring the same deadline) are conditional UPDATEs whose
row count says who won, so exactly one of them happens on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, InitVar, dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Dict, List, Mapping, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.booking.availability import format_slot
from bot.booking.reps import Rep, RepsConfig, RoutingFacts, choose_segment, next_rep
from bot.booking.service import lead_summary
from bot.clock import Clock
from bot.crm import events as crm_events
from bot.handoff.hours import first_working, unique
from bot.handoff.notify import (
    Notice,
    email_payload,
    message_email_payload,
    slack_message,
    visitor_label,
)
from bot.handoff.notify import wait_text as format_wait
from bot.handoff.state import OPEN_STATES, Move, TransitionError, next_state
from bot.leads.store import find_lead
from bot.outbox.queue import enqueue
from bot.scoring.rules import SCORE_MAX
from bot.storage.engine import make_session_factory, unit_of_work
from bot.storage.enums import DeliveryPurpose, HandoffKind, HandoffState
from bot.storage.models import Handoff, HandoffPush, Lead, LeadAnswer
from bot.web.urls import PublicUrls

MAX_REP_MESSAGE_CHARS = 4000
MAX_VISITOR_NOTE_CHARS = 2000
PUSH_BATCH = 100


class Outcome(str, Enum):
    """What the visitor is told after asking for a person."""

    WAITING = "waiting"  # queued; a rep who is working now was told
    ALREADY_OPEN = "already_open"  # they were already waiting (or talking to someone)
    OFF_HOURS = "off_hours"  # nobody is working now: said at once
    CALLBACK = "callback"  # a call back was asked for and passed on


@dataclass(frozen=True)
class HandoffView:
    """A handoff as the inbox and the processes see it, detached from any session."""

    id: int
    public_id: str
    conversation_id: str
    kind: str
    state: str
    rep_email: str | None
    rep_name: str | None
    taken_by: str | None
    requested_at: datetime
    deadline_at: datetime | None
    taken_at: datetime | None
    ended_at: datetime | None
    form_interrupted: bool
    missed_reason: str | None
    visitor: str  # name (company), or "A website visitor"

    def waiting_seconds(self, now: datetime) -> float:
        end = self.taken_at or self.ended_at or now
        return max(0.0, (end - self.requested_at).total_seconds())


@dataclass(frozen=True)
class Requested:
    outcome: Outcome
    handoff: HandoffView
    rep: Rep | None  # who was told (None: a shared SALES_EMAIL with no rep working)


@dataclass(frozen=True)
class Push:
    id: int
    message: Mapping[str, Any]


def _visitor(lead: Lead | None) -> str:
    return visitor_label(lead.name, lead.company) if lead is not None else visitor_label(None, None)


@dataclass(eq=False, repr=False)
class HandoffService:
    engine: InitVar[Engine]
    reps: RepsConfig
    clock: Clock
    urls: PublicUrls
    _: KW_ONLY
    wait_seconds: float = 120.0
    sales_email: str = ""
    rep_webhook_url: str = ""

    def __post_init__(self, engine: Engine) -> None:
        self._sessions = make_session_factory(engine)

    # -- requests ----------------------------------------------------------------------------
    def request_live(
        self,
        conversation_id: str,
        *,
        visitor_tz: str | None = None,
        locale: str | None = None,
        form_interrupted: bool = False,
    ) -> Requested:
        """Queue the visitor for a person who is working now, or say at once that nobody is.

        Recorded and notified in one transaction: the visitor is never told someone was asked
        unless the notification is in the outbox.
        """
        now = self.clock()
        with unit_of_work(self._sessions) as session:
            existing = self._open(session, conversation_id)
            lead = find_lead(session, conversation_id)
            if existing is not None:
                return Requested(
                    Outcome.ALREADY_OPEN,
                    self._view(existing, lead),
                    self.reps.rep(existing.rep_email or ""),
                )
            assigned, candidates = self._route(session, lead, visitor_tz, locale)
            working = first_working(candidates, now)
            rep = working or assigned
            if lead is not None:
                if not lead.needs_human:  # asking again later is not a new lead event
                    crm_events.handoff_requested(session, lead, now, reason="live")
                lead.needs_human, lead.handoff_requested_at = True, now
                if lead.rep_email is None:
                    lead.rep_email = rep.email
            handoff = Handoff(
                conversation_id=conversation_id,
                kind=HandoffKind.LIVE,
                state=HandoffState.WAITING if working else HandoffState.MISSED,
                rep_email=rep.email,
                requested_at=now,
                deadline_at=now + timedelta(seconds=self.wait_seconds) if working else None,
                ended_at=None if working else now,
                form_interrupted=form_interrupted,
                missed_reason=None if working else "off_hours",
            )
            session.add(handoff)
            session.flush()
            self._notify(session, handoff, lead, rep)
            outcome = Outcome.WAITING if working else Outcome.OFF_HOURS
            return Requested(outcome, self._view(handoff, lead), rep)

    def request_callback(self, conversation_id: str) -> Requested | None:
        """Pass a call-back request to the lead's rep; None without a lead (no consent)."""
        now = self.clock()
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            if lead is None:
                return None
            if not lead.needs_human:
                crm_events.handoff_requested(session, lead, now, reason="callback")
            lead.needs_human = True
            lead.handoff_requested_at = now
            assigned, _ = self._route(session, lead, None, None)
            if lead.rep_email is None:
                lead.rep_email = assigned.email
            handoff = Handoff(
                conversation_id=conversation_id,
                kind=HandoffKind.CALLBACK,
                state=HandoffState.WAITING,
                rep_email=assigned.email,
                requested_at=now,
                form_interrupted=False,
            )
            session.add(handoff)
            session.flush()
            self._notify(session, handoff, lead, assigned)
            return Requested(Outcome.CALLBACK, self._view(handoff, lead), assigned)

    def leave_message(self, conversation_id: str, text: str) -> bool:
        """Email the visitor's message to the rep of their latest handoff; False if none."""
        text = text.strip()[:MAX_VISITOR_NOTE_CHARS]
        if not text:
            return False
        with unit_of_work(self._sessions) as session:
            handoff = self._latest(session, conversation_id)
            if handoff is None:
                return False
            lead = find_lead(session, conversation_id)
            rep = self.reps.rep(handoff.rep_email or "")
            notice = self._notice(session, handoff, lead, rep, self.clock())
            enqueue(
                session,
                "email",
                DeliveryPurpose.HANDOFF,
                message_email_payload(notice, self._email_to(rep), text),
                conversation_id=conversation_id,
                now=self.clock(),
            )
            return True

    # -- the rep's side ----------------------------------------------------------------------
    def take(self, public_id: str, rep_email: str) -> HandoffView:
        """The rep takes over (TransitionError if someone else was first or it has ended)."""
        return self._move(public_id, Move.TAKE, taken_by=rep_email)

    def hand_back(self, public_id: str) -> HandoffView:
        return self._move(public_id, Move.HAND_BACK)

    def close(self, public_id: str) -> HandoffView:
        return self._move(public_id, Move.CLOSE)

    def get(self, public_id: str) -> HandoffView | None:
        with unit_of_work(self._sessions) as session:
            handoff = self._by_public_id(session, public_id)
            if handoff is None:
                return None
            return self._view(handoff, find_lead(session, handoff.conversation_id))

    def current(self, conversation_id: str) -> HandoffView | None:
        """The conversation's latest handoff, if any."""
        with unit_of_work(self._sessions) as session:
            handoff = self._latest(session, conversation_id)
            if handoff is None:
                return None
            return self._view(handoff, find_lead(session, conversation_id))

    def queue(self, recent: int = 20) -> List[HandoffView]:
        """Open handoffs (waiting and live, longest waiting first), then the latest others."""
        with unit_of_work(self._sessions) as session:
            open_rows = (
                session.execute(
                    select(Handoff)
                    .where(Handoff.state.in_([s.value for s in OPEN_STATES]))
                    .order_by(Handoff.requested_at, Handoff.id)
                )
                .scalars()
                .all()
            )
            ended = (
                session.execute(
                    select(Handoff)
                    .where(Handoff.state.notin_([s.value for s in OPEN_STATES]))
                    .order_by(Handoff.requested_at.desc(), Handoff.id.desc())
                    .limit(recent)
                )
                .scalars()
                .all()
            )
            rows = list(open_rows) + list(ended)
            leads = _leads(session, {row.conversation_id for row in rows})
            return [self._view(row, leads.get(row.conversation_id)) for row in rows]

    # -- the wait deadline -------------------------------------------------------------------
    def expire_due(self) -> List[HandoffView]:
        """Handoffs whose deadline passed with nobody taking them, now missed; each is returned
        by exactly one caller, however many processes call this at once."""
        now = self.clock()
        expired: List[HandoffView] = []
        with unit_of_work(self._sessions) as session:
            due = (
                session.execute(
                    select(Handoff.id).where(
                        Handoff.state == HandoffState.WAITING,
                        Handoff.deadline_at.isnot(None),
                        Handoff.deadline_at <= now,
                    )
                )
                .scalars()
                .all()
            )
        for handoff_id in due:
            with unit_of_work(self._sessions) as session:
                won = session.execute(
                    update(Handoff)
                    .where(Handoff.id == handoff_id, Handoff.state == HandoffState.WAITING)
                    .values(state=HandoffState.MISSED, missed_reason="timeout", ended_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if won:
                    handoff = session.get(Handoff, handoff_id)
                    expired.append(self._view(handoff, find_lead(session, handoff.conversation_id)))
        return expired

    # -- messages for the widget -------------------------------------------------------------
    def push(self, conversation_id: str, message: Mapping[str, Any]) -> int:
        """Queue a message for the visitor's widget; returns its id (the widget's cursor)."""
        with unit_of_work(self._sessions) as session:
            row = HandoffPush(
                conversation_id=conversation_id, message=dict(message), created_at=self.clock()
            )
            session.add(row)
            session.flush()
            return row.id

    def pushes(self, conversation_id: str, after: int) -> List[Push]:
        with unit_of_work(self._sessions) as session:
            rows = session.execute(
                select(HandoffPush.id, HandoffPush.message)
                .where(HandoffPush.conversation_id == conversation_id, HandoffPush.id > after)
                .order_by(HandoffPush.id)
                .limit(PUSH_BATCH)
            ).all()
            return [Push(row_id, message) for row_id, message in rows]

    def last_push_id(self, conversation_id: str) -> int:
        with unit_of_work(self._sessions) as session:
            value = session.execute(
                select(HandoffPush.id)
                .where(HandoffPush.conversation_id == conversation_id)
                .order_by(HandoffPush.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            return int(value or 0)

    def erase(self, session: Session, conversation_id: str) -> None:
        """Delete the conversation's handoffs and pushes in the caller's (erasure) transaction."""
        for model in (Handoff, HandoffPush):
            session.execute(
                delete(model)
                .where(model.conversation_id == conversation_id)
                .execution_options(synchronize_session=False)
            )

    # -- helpers -----------------------------------------------------------------------------
    def _move(self, public_id: str, move: Move, taken_by: str | None = None) -> HandoffView:
        now = self.clock()
        with unit_of_work(self._sessions) as session:
            handoff = self._by_public_id(session, public_id)
            if handoff is None:
                raise KeyError(public_id)
            target = next_state(handoff.state, move)
            values: Dict[str, Any] = {"state": target}
            if move is Move.TAKE:
                values.update(taken_by=taken_by, taken_at=now, ended_at=None)
            else:
                values["ended_at"] = now
            won = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff.id, Handoff.state == handoff.state)
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not won:  # someone else moved it between our read and our write
                session.rollback()
                current = self._by_public_id(session, public_id)
                raise TransitionError(move, current.state if current else "gone")
            session.expire(handoff)
            return self._view(handoff, find_lead(session, handoff.conversation_id))

    def _route(
        self, session: Session, lead: Lead | None, visitor_tz: str | None, locale: str | None
    ) -> tuple[Rep, List[Rep]]:
        """(the rep the lead belongs to, everyone who may answer, in order of preference).

        The lead's own rep (as for meetings: routed once, then kept) comes first, then the
        rest of the segment, so a request outside one rep's hours reaches a colleague.
        """
        source = (lead.source if lead is not None else None) or {}
        facts = RoutingFacts(
            company_size=lead.company_size if lead is not None else None,
            visitor_tz=visitor_tz or source.get("timezone"),
            country=RoutingFacts.country_from_locale(locale or source.get("locale")),
        )
        segment = choose_segment(self.reps, facts)
        assigned = self.reps.rep(lead.rep_email) if lead is not None and lead.rep_email else None
        if assigned is None:
            assigned = next_rep(session, self.reps, segment)
        team = [self.reps.rep(email) for email in segment.reps]
        return assigned, unique([assigned, *team])

    def _email_to(self, rep: Rep | None) -> str:
        return self.sales_email or (rep.email if rep else "")

    def _notice(
        self, session: Session, handoff: Handoff, lead: Lead | None, rep: Rep | None, now: datetime
    ) -> Notice:
        summary = score = reply_to = None
        if lead is not None:
            answers = {
                a.slot: a.raw_text
                for a in session.execute(
                    select(LeadAnswer).where(LeadAnswer.lead_id == lead.id)
                ).scalars()
            }
            summary = lead_summary(lead, answers)
            reply_to = lead.email
            if lead.score is not None:
                score = f"{lead.score}/{SCORE_MAX} ({(lead.tier or '').replace('_', ' ')})"
        page = ((lead.source if lead is not None else None) or {}).get("page_url")
        return Notice(
            kind=str(handoff.kind.value if isinstance(handoff.kind, Enum) else handoff.kind),
            visitor=_visitor(lead),
            when=format_slot(handoff.requested_at or now, rep.timezone if rep else None),
            link=self.urls.handoff(handoff.public_id),
            wait_text=format_wait(self.wait_seconds),
            rep_name=rep.name if rep else None,
            page=page if isinstance(page, str) else None,
            summary=summary,
            reply_to=reply_to,
            score=score,
            missed_reason=handoff.missed_reason,
        )

    def _notify(self, session: Session, handoff: Handoff, lead: Lead | None, rep: Rep) -> None:
        now = self.clock()
        notice = self._notice(session, handoff, lead, rep, now)
        enqueue(
            session,
            "email",
            DeliveryPurpose.HANDOFF,
            email_payload(notice, self._email_to(rep)),
            conversation_id=handoff.conversation_id,
            now=now,
        )
        if self.rep_webhook_url:
            enqueue(
                session,
                "webhook",
                DeliveryPurpose.HANDOFF,
                {"integration": "rep", "url": self.rep_webhook_url, "body": slack_message(notice)},
                conversation_id=handoff.conversation_id,
                now=now,
            )

    @staticmethod
    def _open(session: Session, conversation_id: str) -> Handoff | None:
        return (
            session.execute(
                select(Handoff)
                .where(
                    Handoff.conversation_id == conversation_id,
                    Handoff.kind == HandoffKind.LIVE,
                    Handoff.state.in_([s.value for s in OPEN_STATES]),
                )
                .order_by(Handoff.id.desc())
                .limit(1)
            )
            .scalars()
            .first()
        )

    @staticmethod
    def _latest(session: Session, conversation_id: str) -> Handoff | None:
        return session.execute(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    @staticmethod
    def _by_public_id(session: Session, public_id: str) -> Handoff | None:
        return session.execute(
            select(Handoff).where(Handoff.public_id == public_id)
        ).scalar_one_or_none()

    def _view(self, handoff: Handoff, lead: Lead | None) -> HandoffView:
        rep = self.reps.rep(handoff.rep_email or "")
        return HandoffView(
            id=handoff.id,
            public_id=handoff.public_id,
            conversation_id=handoff.conversation_id,
            kind=_text(handoff.kind),
            state=_text(handoff.state),
            rep_email=handoff.rep_email,
            rep_name=rep.name if rep else None,
            taken_by=handoff.taken_by,
            requested_at=handoff.requested_at,
            deadline_at=handoff.deadline_at,
            taken_at=handoff.taken_at,
            ended_at=handoff.ended_at,
            form_interrupted=bool(handoff.form_interrupted),
            missed_reason=handoff.missed_reason,
            visitor=_visitor(lead),
        )


def _text(value: Any) -> str:
    return value.value if isinstance(value, Enum) else str(value)


def _leads(session: Session, conversation_ids: Sequence[str] | set) -> Dict[str, Lead]:
    ids = list(conversation_ids)
    if not ids:
        return {}
    return {
        lead.conversation_id: lead
        for lead in session.execute(select(Lead).where(Lead.conversation_id.in_(ids))).scalars()
    }
