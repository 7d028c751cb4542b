"""Reading leads for the reps: the inbox list (search, filters, pages), one lead, the exports,
and the meetings still to come. Plain functions over a session; the web process calls them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.leads.record import LeadRecord
from bot.storage.enums import HandoffState, MeetingStatus, Outcome, Tier
from bot.storage.models import Handoff, Lead, LeadAnswer, Meeting


@dataclass(frozen=True)
class UpcomingMeeting:
    """A booked meeting that has not ended yet, with who is coming."""

    lead_id: str | None  # the lead's opaque id (links), never the conversation id
    start_utc: datetime
    end_utc: datetime
    rep_email: str
    visitor_tz: str | None
    name: str | None
    email: str | None
    company: str | None
    score: int | None
    tier: str | None


@dataclass(frozen=True)
class LeadFilter:
    """What a rep narrows the inbox to; empty fields don't filter."""

    search: str = ""  # in name, email, company (case-insensitive)
    tier: Tier | None = None
    outcome: Outcome | None = None
    rep_email: str = ""
    waiting: bool = False  # asked for a person: flagged, or a live-chat handoff still queued

    def apply(self, query: Select) -> Select:
        if self.search:
            pattern = "%" + self.search.lower().replace("%", r"\%").replace("_", r"\_") + "%"
            query = query.where(
                or_(
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (Lead.name, Lead.email, Lead.company)
                    )
                )
            )
        if self.tier is not None:
            query = query.where(Lead.tier == self.tier.value)
        if self.outcome is not None:
            query = query.where(Lead.outcome == self.outcome.value)
        if self.rep_email:
            query = query.where(func.lower(Lead.rep_email) == self.rep_email.lower())
        if self.waiting:
            queued = (
                select(Handoff.id)
                .where(
                    Handoff.conversation_id == Lead.conversation_id,
                    Handoff.state == HandoffState.WAITING,
                )
                .exists()
            )
            query = query.where(or_(Lead.needs_human.is_(True), queued))
        return query


def upcoming_meetings(session: Session, now: datetime, limit: int = 200) -> List[UpcomingMeeting]:
    """Meetings that have not ended yet, soonest first."""
    rows = session.execute(
        select(Meeting, Lead)
        .join(Lead, Lead.conversation_id == Meeting.conversation_id)
        .where(Meeting.end_utc >= now, Meeting.status == MeetingStatus.BOOKED)
        .order_by(Meeting.start_utc)
        .limit(limit)
    ).all()
    return [
        UpcomingMeeting(
            lead_id=lead.public_id,
            start_utc=meeting.start_utc,
            end_utc=meeting.end_utc,
            rep_email=meeting.rep_email,
            visitor_tz=meeting.visitor_tz,
            name=lead.name,
            email=lead.email,
            company=lead.company,
            score=lead.score,
            tier=lead.tier,
        )
        for meeting, lead in rows
    ]


def _records(session: Session, leads: Sequence[Lead]) -> List[LeadRecord]:
    """Records with their answers, read in one query for the whole page."""
    answers: Dict[int, List[LeadAnswer]] = {}
    if leads:
        for answer in session.execute(
            select(LeadAnswer).where(LeadAnswer.lead_id.in_([lead.id for lead in leads]))
        ).scalars():
            answers.setdefault(answer.lead_id, []).append(answer)
    return [LeadRecord.from_row(lead, answers.get(lead.id, [])) for lead in leads]


def recent_leads(
    session: Session, limit: int = 50, offset: int = 0, where: LeadFilter | None = None
) -> List[LeadRecord]:
    """Newest leads first (matching `where`), with their typed answers."""
    query = select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc())
    if where is not None:
        query = where.apply(query)
    leads = session.execute(query.offset(offset).limit(limit)).scalars().all()
    return _records(session, leads)


def count_leads(session: Session, where: LeadFilter | None = None) -> int:
    query = select(func.count()).select_from(Lead)
    if where is not None:
        query = where.apply(query)
    return session.execute(query).scalar_one()


def lead_record(session: Session, lead_id: str) -> LeadRecord | None:
    """The lead with this opaque id (what the inbox's links carry)."""
    lead = session.execute(select(Lead).where(Lead.public_id == lead_id)).scalar_one_or_none()
    return LeadRecord.from_row(lead) if lead is not None else None


def lead_reps(session: Session) -> List[str]:
    """The reps' emails that leads were routed to (for the inbox's rep filter)."""
    return sorted(
        email for email in session.execute(select(Lead.rep_email).distinct()).scalars() if email
    )
