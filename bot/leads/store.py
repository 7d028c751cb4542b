"""Lead persistence: consent, answers, hand-off flags, export and erasure.

Every method is one short transaction. Nothing is written for a conversation until the
visitor has consented (`start` is only called then); later writes for a conversation with
no lead are refused, which is how "no personal data before consent" is enforced here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.clock import utc_now
from bot.crm import events as crm_events
from bot.leads.record import LeadRecord
from bot.storage.engine import make_session_factory, unit_of_work
from bot.storage.enums import ConsentPurpose, LeadStatus, Outcome
from bot.storage.models import (
    ConsentRecord,
    ErasureAudit,
    Handoff,
    HandoffPush,
    Lead,
    LeadAnswer,
    Meeting,
    NurtureEnrollment,
    NurtureSend,
    OutboxItem,
)


def find_lead(session: Session, conversation_id: str) -> Lead | None:
    """The lead row of a conversation, in the caller's unit of work (None: no lead, or erased)."""
    return session.execute(
        select(Lead).where(Lead.conversation_id == conversation_id)
    ).scalar_one_or_none()


# Lead columns each question may set (a declined or unknown answer clears them).
ANSWER_COLUMNS: Mapping[str, tuple] = {
    "name": ("name",),
    "email": ("email", "email_free_mail"),
    "role": ("role", "seniority"),
    "company": ("company",),
    "company_size": ("company_size",),
    "budget": ("budget_usd",),
    "timeline": ("timeline_months",),
}


@dataclass(frozen=True)
class ErasureReport:
    leads_erased: int
    consent_records_erased: int

    @property
    def anything_erased(self) -> bool:
        return bool(self.leads_erased or self.consent_records_erased)


def record_consent(
    session: Session,
    conversation_id: str,
    purpose: ConsentPurpose,
    granted: bool,
    text_version: str,
    at: datetime | None = None,
) -> None:
    """One consent answer, with the version of the text it answered and when (UTC)."""
    session.add(
        ConsentRecord(
            conversation_id=conversation_id,
            purpose=purpose,
            granted=granted,
            text_version=text_version,
            recorded_at=at or utc_now(),
        )
    )


class LeadStore:
    """Reads and writes leads through SQLAlchemy; one instance per process."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = make_session_factory(engine)

    # -- consent -------------------------------------------------------------------------
    def start(
        self,
        conversation_id: str,
        consent_version: str,
        source: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record consent to be contacted and create the lead (idempotent on re-consent)."""
        at = at or utc_now()
        with unit_of_work(self._sessions) as session:
            record_consent(
                session, conversation_id, ConsentPurpose.CONTACT, True, consent_version, at
            )
            lead = find_lead(session, conversation_id)
            if lead is None:
                lead = Lead(
                    conversation_id=conversation_id,
                    consent_at=at,
                    consent_version=consent_version,
                    nurture_consent=False,
                    outcome=Outcome.NONE,
                    status=LeadStatus.IN_PROGRESS,
                    needs_human=False,
                    source=dict(source) if source else None,
                    created_at=at,
                    updated_at=at,
                )
                session.add(lead)
                crm_events.lead_created(session, lead, at)
            else:
                lead.consent_at, lead.consent_version = at, consent_version
                if source and not lead.source:
                    lead.source = dict(source)

    def record_nurture_consent(
        self, conversation_id: str, granted: bool, consent_version: str
    ) -> bool:
        """Record the separate yes/no to follow-up emails; False if there is no lead."""
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            if lead is None:
                return False
            lead.nurture_consent = granted
            record_consent(
                session, conversation_id, ConsentPurpose.NURTURE, granted, consent_version
            )
            return True

    # -- answers -------------------------------------------------------------------------
    def record_answer(
        self,
        conversation_id: str,
        slot: str,
        raw_text: str | None,
        status: str,
        values: Mapping[str, Any],
    ) -> bool:
        """Store the latest answer to `slot`; False (and nothing written) without consent."""
        if slot not in ANSWER_COLUMNS:
            raise ValueError(f"unknown question {slot!r}")
        unknown = set(values) - set(ANSWER_COLUMNS[slot])
        if unknown:
            raise ValueError(f"{slot} cannot set {sorted(unknown)}")
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            if lead is None:
                return False
            answer = session.execute(
                select(LeadAnswer).where(LeadAnswer.lead_id == lead.id, LeadAnswer.slot == slot)
            ).scalar_one_or_none()
            if (
                answer is not None
                and (answer.raw_text, answer.status) == (raw_text, status)
                and all(getattr(lead, c) == values.get(c) for c in ANSWER_COLUMNS[slot])
            ):
                # The same answer again, not a correction: its turn ran again because the
                # save to the tracker store failed (the visitor got the apology).
                return True
            for column in ANSWER_COLUMNS[slot]:
                setattr(lead, column, values.get(column))
            if answer is None:
                session.add(
                    LeadAnswer(
                        lead_id=lead.id, slot=slot, raw_text=raw_text, status=status, corrections=0
                    )
                )
            else:
                answer.corrections += 1
                answer.raw_text, answer.status, answer.answered_at = raw_text, status, utc_now()
            lead.updated_at = utc_now()
            return True

    def set_status(self, conversation_id: str, status: LeadStatus) -> bool:
        status = LeadStatus(status)  # a ValueError for anything that is not a status
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            if lead is None:
                return False
            lead.status = status
            return True

    def request_human(self, conversation_id: str) -> bool:
        """Flag the lead for a person; False when there is no lead (no consent)."""
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            if lead is None:
                return False
            first = not lead.needs_human
            lead.needs_human = True
            lead.handoff_requested_at = utc_now()
            if first:  # asking again while waiting is not a new request
                crm_events.handoff_requested(session, lead, lead.handoff_requested_at)
            return True

    def record_score(
        self, conversation_id: str, score: int, tier: str, breakdown: List[Dict[str, Any]]
    ) -> bool:
        """Store a score, its tier and its per-rule breakdown (bot.scoring); False if no lead."""
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            if lead is None:
                return False
            lead.score, lead.tier, lead.score_breakdown = score, tier, list(breakdown)
            crm_events.lead_qualified(session, lead)
            return True

    # -- reading -------------------------------------------------------------------------
    def get(self, conversation_id: str) -> LeadRecord | None:
        with unit_of_work(self._sessions) as session:
            lead = find_lead(session, conversation_id)
            return LeadRecord.from_row(lead) if lead else None

    def export(self) -> List[Dict[str, Any]]:
        """Every lead in the JSON shape of `python -m bot leads export` (a contract)."""
        with unit_of_work(self._sessions) as session:
            leads = session.execute(select(Lead).order_by(Lead.created_at, Lead.id)).scalars()
            return [LeadRecord.from_row(lead).to_export() for lead in leads]

    # -- erasure -------------------------------------------------------------------------
    def erase(self, conversation_id: str) -> ErasureReport:
        """Delete the lead, its answers and consent records; keep an anonymous audit entry.

        The rows only: "forget me" goes through bot.leads.erasure, which also cancels meetings
        with the rep, removes offline mail files and the tracker store's events, all or none.
        """
        with unit_of_work(self._sessions) as session:
            return self.erase_rows(session, conversation_id)

    def erase_rows(self, session: Session, conversation_id: str) -> ErasureReport:
        """`erase` within the caller's transaction (nothing is committed here)."""
        lead = find_lead(session, conversation_id)
        leads_erased = 0
        if lead is not None:
            crm_events.lead_erased(session, lead)  # the opaque id only; outlives the rest
            session.delete(lead)  # answers go with it (cascade)
            leads_erased = 1
        consent_erased = session.execute(
            delete(ConsentRecord).where(ConsentRecord.conversation_id == conversation_id)
        ).rowcount
        # Meetings, nurture enrollments (their sends cascade) and outbox deliveries hold
        # personal data too; the anonymous audit below stays as it was (counts only).
        enrollments = select(NurtureEnrollment.id).where(
            NurtureEnrollment.conversation_id == conversation_id
        )
        session.execute(
            delete(NurtureSend)
            .where(NurtureSend.enrollment_id.in_(enrollments))
            .execution_options(synchronize_session=False)
        )
        for model in (NurtureEnrollment, Meeting, OutboxItem, Handoff, HandoffPush):
            session.execute(
                delete(model)
                .where(model.conversation_id == conversation_id)
                .execution_options(synchronize_session=False)
            )
        session.add(ErasureAudit(leads_erased=leads_erased, consent_records_erased=consent_erased))
        return ErasureReport(leads_erased, consent_erased)

    # -- retention -------------------------------------------------------------------------
    def inactive_since(self, cutoff: datetime) -> List[str]:
        """Conversation ids of leads not updated since `cutoff` (their retention is over)."""
        with unit_of_work(self._sessions) as session:
            return list(
                session.execute(
                    select(Lead.conversation_id).where(Lead.updated_at < cutoff)
                ).scalars()
            )

    def with_leads(self, conversation_ids: List[str]) -> set:
        """Which of these conversations have a lead (the visitor consented)."""
        found: set = set()
        with unit_of_work(self._sessions) as session:
            for start in range(0, len(conversation_ids), 500):
                chunk = conversation_ids[start : start + 500]
                found.update(
                    session.execute(
                        select(Lead.conversation_id).where(Lead.conversation_id.in_(chunk))
                    ).scalars()
                )
        return found

    def erasure_count(self) -> int:
        with unit_of_work(self._sessions) as session:
            return session.execute(select(func.count()).select_from(ErasureAudit)).scalar_one()
