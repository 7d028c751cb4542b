"""Helpers for the booking/outbox/nurture tests: a settable clock and ready-made leads."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.leads.store import LeadStore

# Monday 23 November 2026, 07:00 UTC (08:00 in Berlin).
START = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_lead(
    store: LeadStore, conversation_id: str, nurture: bool = False, **overrides: object
) -> None:
    """A consented lead with every answer given (VP at a 450-person company, 60k, now)."""
    store.start(conversation_id, "v1", {"page_url": "https://example.test/pricing"})
    store.record_nurture_consent(conversation_id, nurture, "v1")
    answers = {
        "name": ("jane doe", {"name": overrides.get("name", "Jane Doe")}),
        "email": (
            "jane@acme.test",
            {"email": overrides.get("email", "jane@acme.test"), "email_free_mail": False},
        ),
        "role": ("VP of Sales", {"role": "VP Sales", "seniority": "vp"}),
        "company": ("acme", {"company": "Acme"}),
        "company_size": ("about 450", {"company_size": overrides.get("company_size", 450)}),
        "budget": ("60k", {"budget_usd": 60000}),
        "timeline": ("asap", {"timeline_months": 0}),
    }
    for slot, (raw, values) in answers.items():
        store.record_answer(conversation_id, slot, raw, "ok", values)
    store.record_score(
        conversation_id,
        overrides.get("score", 85),  # type: ignore[arg-type]
        overrides.get("tier", "sales_qualified"),  # type: ignore[arg-type]
        [{"rule": "seniority.vp", "points": 25, "reason": "vp role"}],
    )
