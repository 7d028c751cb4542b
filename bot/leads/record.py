"""One lead, read once, and every shape it leaves the database in.

`LeadRecord` is the lead as stored (detached from any session); its views are the only places
that decide which fields go where: the export contract (`python -m bot leads export`), the CSV
download, the CRM payload, the inbox's JSON download, and the "what we know about you" read-back
that visitors and reps both read, worded by the same formatter (`display_value`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

from bot.conversation.questions import QUESTIONS, display_value
from bot.scoring.rules import LeadFacts
from bot.storage.enums import LeadStatus, Outcome, Tier
from bot.storage.models import Lead, LeadAnswer

# Who the lead is and what they answered, as stored (the export and the CSV both list them).
PERSON_FIELDS = (
    "name",
    "email",
    "role",
    "seniority",
    "company",
    "company_size",
    "budget_usd",
    "timeline_months",
)
# The export contract (`python -m bot leads export`, the inbox's JSON download): whatever reads
# an export relies on these names, so views add to it, never rename.
EXPORT_FIELDS = (
    "conversation_id",
    *PERSON_FIELDS,
    "consent_at",
    "nurture_consent",
    "score",
    "tier",
    "outcome",
    "meeting_start",
    "rep_email",
    "source",
    "created_at",
)
# The CSV download's columns (flat: the source becomes its page). Downloads leave the system:
# the lead is named by its opaque id, never the conversation id (README: Security and privacy).
CSV_FIELDS = (
    "lead_id",
    "created_at",
    *PERSON_FIELDS,
    "score",
    "tier",
    "outcome",
    "meeting_start",
    "rep_email",
    "source_page",
)
# The stored value each question's answer is read back from.
ANSWER_VALUES: Mapping[str, str] = {
    "name": "name",
    "email": "email",
    "role": "role",
    "company": "company",
    "company_size": "company_size",
    "budget": "budget_usd",
    "timeline": "timeline_months",
}
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as every export writes times."""
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


def _enum(kind: type, value: Any) -> Any:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:  # a value written by an older version: shown as it is
        return value


@dataclass(frozen=True)
class StoredAnswer:
    """What the visitor typed for a question, and what became of it."""

    raw_text: str | None
    status: str
    corrections: int = 0


@dataclass(frozen=True)
class LeadRecord:
    """A lead as stored; unknown values are None."""

    conversation_id: str
    name: str | None = None
    email: str | None = None
    email_free_mail: bool | None = None
    role: str | None = None
    seniority: str | None = None
    company: str | None = None
    company_size: int | None = None
    budget_usd: int | None = None
    timeline_months: int | None = None
    consent_at: datetime | None = None
    nurture_consent: bool = False
    score: int | None = None
    tier: Tier | None = None
    score_breakdown: Tuple[Mapping[str, Any], ...] = ()
    outcome: Outcome = Outcome.NONE
    status: LeadStatus = LeadStatus.IN_PROGRESS
    needs_human: bool = False
    meeting_start: datetime | None = None
    rep_email: str | None = None
    source: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    public_id: str | None = None
    answers: Mapping[str, StoredAnswer] = field(default_factory=dict)

    @classmethod
    def from_row(cls, lead: Lead, answers: Iterable[LeadAnswer] | None = None) -> LeadRecord:
        """The record of an ORM row (its answers loaded from `lead.answers` unless given)."""
        rows = lead.answers if answers is None else answers
        return cls(
            conversation_id=lead.conversation_id,
            name=lead.name,
            email=lead.email,
            email_free_mail=lead.email_free_mail,
            role=lead.role,
            seniority=lead.seniority,
            company=lead.company,
            company_size=lead.company_size,
            budget_usd=lead.budget_usd,
            timeline_months=lead.timeline_months,
            consent_at=lead.consent_at,
            nurture_consent=bool(lead.nurture_consent),
            score=lead.score,
            tier=_enum(Tier, lead.tier),
            score_breakdown=tuple(
                hit for hit in (lead.score_breakdown or []) if isinstance(hit, Mapping)
            ),
            outcome=_enum(Outcome, lead.outcome) or Outcome.NONE,
            status=_enum(LeadStatus, lead.status) or LeadStatus.IN_PROGRESS,
            needs_human=bool(lead.needs_human),
            meeting_start=lead.meeting_start,
            rep_email=lead.rep_email,
            source=dict(lead.source or {}),
            created_at=lead.created_at,
            public_id=lead.public_id,
            answers={
                answer.slot: StoredAnswer(answer.raw_text, answer.status, answer.corrections)
                for answer in rows
            },
        )

    # -- views -------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Any:
        """`record["budget_usd"]`: one field as the export shows it."""
        return self.to_export()[name]

    @property
    def source_page(self) -> str | None:
        return self.source.get("page_url")

    def to_facts(self, asked_for_demo: bool = False, asked_for_pricing: bool = False) -> LeadFacts:
        """What scoring looks at (the conversation's intents come from the tracker)."""
        timeline = self.answers.get("timeline")
        return LeadFacts(
            seniority=self.seniority,
            company_size=self.company_size,
            budget_usd=self.budget_usd,
            timeline_months=self.timeline_months,
            timeline_status=timeline.status if timeline else None,
            email=self.email,
            email_free_mail=self.email_free_mail,
            asked_for_demo=asked_for_demo,
            asked_for_pricing=asked_for_pricing,
            page_url=self.source.get("page_url"),
            referrer=self.source.get("referrer"),
            utm_source=self.source.get("utm_source"),
            utm_medium=self.source.get("utm_medium"),
            utm_campaign=self.source.get("utm_campaign"),
        )

    def to_export(self) -> Dict[str, Any]:
        """The `python -m bot leads export` row (a contract), plus status and breakdown."""
        row: Dict[str, Any] = {name: getattr(self, name) for name in EXPORT_FIELDS}
        for name in ("consent_at", "meeting_start", "created_at"):
            row[name] = iso(row[name])
        row["source"] = dict(self.source) or None
        row["score_breakdown"] = [dict(hit) for hit in self.score_breakdown] or None
        row.update(
            email_free_mail=self.email_free_mail,
            status=self.status,
            needs_human=self.needs_human,
        )
        return row

    def to_download(self) -> Dict[str, Any]:
        """The inbox's JSON download: the export plus each typed answer and its status, under
        the lead's opaque id instead of the conversation id (downloads leave the system)."""
        row = self.to_export()
        del row["conversation_id"]
        return {
            "lead_id": self.public_id,
            **row,
            "score_breakdown": [dict(hit) for hit in self.score_breakdown],
            "source_page": self.source_page,
            "answers": {
                slot: {"text": answer.raw_text, "status": answer.status}
                for slot, answer in self.answers.items()
            },
        }

    def to_crm(self) -> Dict[str, Any]:
        """The lead as CRM events carry it (bot/crm): the export under its opaque id, never
        the conversation id (DESIGN: what leaves the system uses the opaque id)."""
        row = self.to_export()
        del row["conversation_id"], row["email_free_mail"]
        return {"id": self.public_id, **row}

    def to_csv_row(self) -> List[str]:
        """One CSV line's cells, in CSV_FIELDS order."""
        values = {**self.to_export(), "lead_id": self.public_id, "source_page": self.source_page}
        return [_cell(values.get(name)) for name in CSV_FIELDS]

    def understood(self, slot: str, locale: str = "en") -> str:
        """What the bot made of one answer, worded as the visitor reads it back."""
        answer = self.answers.get(slot)
        value = getattr(self, ANSWER_VALUES[slot])
        if answer is not None and answer.status in ("declined", "unknown"):
            value = answer.status
        return display_value(slot, value, locale)

    def describe(self, locale: str = "en") -> Dict[str, str]:
        """The visitor's answers, as text, for "what do you know about me?" (the follow-up
        consent is worded there, from domain.yml: actions/privacy.py)."""
        return {slot: self.understood(slot, locale) for slot in QUESTIONS}

    def answered_slots(self) -> List[str]:
        """The questions answered, in the order they are asked (unknown ones last)."""
        return [slot for slot in QUESTIONS if slot in self.answers] + [
            slot for slot in self.answers if slot not in QUESTIONS
        ]

    def utm(self) -> str:
        return ", ".join(
            f"{key[4:]}={self.source[key]}" for key in UTM_KEYS if self.source.get(key)
        )


def _cell(value: Any) -> str:
    """CSV cell; text starting with = + - @ is prefixed so spreadsheets don't run it."""
    if value is None:
        return ""
    text = str(getattr(value, "value", value))
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not isinstance(value, (int, float)):
        return "'" + text
    return text


def leads_csv(records: Sequence[LeadRecord]) -> str:
    """Records as CSV (one header line, the fields in CSV_FIELDS)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for record in records:
        writer.writerow(record.to_csv_row())
    return buffer.getvalue()
