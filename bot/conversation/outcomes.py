"""What happens when the questions are answered: score the lead, then a meeting with a rep
(sales-qualified) or the nurture track (with consent) or nothing more.

One service over the stores so actions stay thin: they pass plain values in and map the
result to a response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.booking.service import AlreadyBooked, Booked, BookingResult, BookingService, Offer
from bot.leads.store import LeadStore
from bot.nurture.service import EnrollResult, NurtureService
from bot.scoring.rules import ScoreResult, ScoringRules, score
from bot.storage.enums import Tier


@dataclass(frozen=True)
class Signals:
    """Intent shown in the conversation (scoring's intent rules)."""

    asked_for_demo: bool = False
    asked_for_pricing: bool = False


class Outcomes:
    def __init__(
        self,
        leads: LeadStore,
        rules: ScoringRules,
        booking: BookingService,
        nurture: NurtureService,
    ) -> None:
        self.leads = leads
        self.rules = rules
        self.booking = booking
        self.nurture = nurture

    def assess(self, conversation_id: str, signals: Signals) -> ScoreResult | None:
        """Score the stored lead and keep the score, tier and breakdown with it."""
        lead = self.leads.get(conversation_id)
        if lead is None:
            return None  # no consent: nothing stored, nothing scored
        result = score(
            lead.to_facts(
                asked_for_demo=signals.asked_for_demo,
                asked_for_pricing=signals.asked_for_pricing,
            ),
            self.rules,
        )
        self.leads.record_score(conversation_id, result.score, result.tier, result.breakdown())
        return result

    def offers_meeting(self, tier: str | None) -> bool:
        return tier == Tier.SALES_QUALIFIED and bool(self.booking.reps.reps)

    def offer(
        self, conversation_id: str, visitor_tz: str | None, after: datetime | None = None
    ) -> Offer:
        return self.booking.offer(conversation_id, visitor_tz, after)

    def book(
        self, conversation_id: str, rep_email: str, start: datetime, visitor_tz: str | None
    ) -> BookingResult:
        return self.booking.book(conversation_id, rep_email, start, visitor_tz)

    def invite_url(self, booked: Booked | AlreadyBooked) -> str:
        return self.booking.invite_url(booked)

    def manage_url(self, conversation_id: str) -> str | None:
        """The visitor's link to cancel or move the booked meeting."""
        return self.booking.manage_url_for(conversation_id)

    def enroll(self, conversation_id: str) -> EnrollResult:
        return self.nurture.enroll(conversation_id)
