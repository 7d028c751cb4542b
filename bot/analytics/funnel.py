"""The funnel report: journeys counted by step, day, question, page and campaign."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from statistics import median
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

from bot.analytics.journeys import Journey
from bot.conversation.questions import QUESTIONS
from bot.storage.enums import Outcome

# The funnel's steps in order.
STEP_NAMES: Tuple[str, ...] = (
    "opened",
    "first_message",
    "consented",
    *(f"answered_{q}" for q in QUESTIONS),
    "scored",
    "sales_qualified",
    "booked",
    "nurtured",
)


def reached(step: str, seen: Journey) -> bool:
    """Whether the conversation got as far as `step` (one of STEP_NAMES)."""
    if step.startswith("answered_"):
        return step[len("answered_") :] in seen.answered
    return {
        "opened": seen.opened_at is not None,
        "first_message": seen.first_message_at is not None,
        "consented": seen.consented,
        "scored": seen.scored,
        "sales_qualified": seen.sales_qualified,
        "booked": seen.booked,
        "nurtured": seen.nurtured,
    }[step]


# Breakdowns count these steps per page and per campaign.
BREAKDOWN_STEPS = ("opened", "consented", "sales_qualified", "booked")


@dataclass(frozen=True)
class LeadOutcome:
    """What the lead store knows about a conversation's end (no personal data)."""

    tier: str | None
    outcome: str | None
    booked_at: datetime | None  # when the meeting was booked (not when it takes place)


def with_outcomes(
    journeys: Iterable[Journey], outcomes: Mapping[str, LeadOutcome]
) -> List[Journey]:
    """Journeys completed with the lead store's tier, booking and nurture enrolment."""
    completed = []
    for seen in journeys:
        known = outcomes.get(seen.conversation_id)
        if known is not None:
            seen = replace(
                seen,
                tier=seen.tier or known.tier,
                booked_at=seen.booked_at or known.booked_at,
                nurtured=seen.nurtured or known.outcome == Outcome.NURTURE.value,
            )
        completed.append(seen)
    return completed


def _count(journeys: Sequence[Journey]) -> Dict[str, int]:
    return {name: sum(1 for j in journeys if reached(name, j)) for name in STEP_NAMES}


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class QuestionStats:
    asked: int  # conversations in which the question was asked
    answered: int
    reasked: int  # conversations with at least one re-ask after an unusable answer
    asks: int  # times asked, re-asks included

    @property
    def drop_off(self) -> int:
        return max(0, self.asked - self.answered)

    def as_dict(self) -> Dict[str, Any]:
        def rate(count: int) -> float | None:
            return round(count / self.asked, 3) if self.asked else None

        return {
            "asked": self.asked,
            "answered": self.answered,
            "drop_off": self.drop_off,
            "drop_off_rate": rate(self.drop_off),
            "reasked": self.reasked,
            "reask_rate": rate(self.reasked),
            "asks_per_conversation": rate(self.asks),
        }


@dataclass(frozen=True)
class FunnelReport:
    since: datetime
    until: datetime
    steps: Dict[str, int]
    daily: Dict[str, Dict[str, int]]  # ISO day -> step -> count
    questions: Dict[str, QuestionStats]
    speed_to_lead_s: Tuple[float, ...]
    by_page: Dict[str, Dict[str, int]]
    by_campaign: Dict[str, Dict[str, int]]

    def as_dict(self) -> Dict[str, Any]:
        times = self.speed_to_lead_s
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "steps": self.steps,
            "daily": self.daily,
            "questions": {q: stats.as_dict() for q, stats in self.questions.items()},
            "speed_to_lead": {
                "leads": len(times),
                "median_s": round(median(times), 1) if times else None,
                "p90_s": round(_percentile(times, 0.9), 1) if times else None,
            },
            "by_page": self.by_page,
            "by_campaign": self.by_campaign,
        }


def _breakdown(journeys: Sequence[Journey], key: str) -> Dict[str, Dict[str, int]]:
    groups: Dict[str, List[Journey]] = {}
    for seen in journeys:
        groups.setdefault(getattr(seen, key) or "(none)", []).append(seen)
    counts = {name: _count(group) for name, group in groups.items()}
    ordered = sorted(counts.items(), key=lambda item: (-item[1]["opened"], item[0]))
    return {name: {step: c[step] for step in BREAKDOWN_STEPS} for name, c in ordered}


def funnel(journeys: Iterable[Journey], since: datetime, until: datetime) -> FunnelReport:
    """Count the journeys that opened the widget in [since, until)."""
    window = [j for j in journeys if j.opened_at is not None and since <= j.opened_at < until]
    by_day: Dict[str, List[Journey]] = {}
    for seen in window:
        by_day.setdefault(seen.opened_at.date().isoformat(), []).append(seen)  # type: ignore[union-attr]
    questions = {
        q: QuestionStats(
            asked=sum(1 for j in window if j.asked.get(q)),
            answered=sum(1 for j in window if q in j.answered),
            reasked=sum(1 for j in window if j.reasked.get(q)),
            asks=sum(j.asked.get(q, 0) + j.reasked.get(q, 0) for j in window),
        )
        for q in QUESTIONS
    }
    return FunnelReport(
        since=since,
        until=until,
        steps=_count(window),
        daily={day: _count(group) for day, group in sorted(by_day.items())},
        questions=questions,
        speed_to_lead_s=tuple(j.speed_to_lead_s for j in window if j.speed_to_lead_s is not None),
        by_page=_breakdown(window, "page"),
        by_campaign=_breakdown(window, "campaign"),
    )


def render_text(report: FunnelReport) -> str:
    """The report as plain text for the terminal."""
    data = report.as_dict()
    lines = [f"Funnel {data['since'][:10]} .. {data['until'][:10]}", ""]
    top = report.steps["opened"] or 1
    for name in STEP_NAMES:
        count = report.steps[name]
        lines.append(f"  {name.replace('_', ' '):<24}{count:>6}  {100 * count / top:5.1f} %")
    lines += ["", "  question        asked answered drop-off re-asked"]
    for q, stats in data["questions"].items():
        rate = stats["reask_rate"]
        lines.append(
            f"  {q:<14}{stats['asked']:>7}{stats['answered']:>9}{stats['drop_off']:>9}"
            f"{'' if rate is None else f'{100 * rate:8.1f} %'}"
        )
    speed = data["speed_to_lead"]
    lines += ["", f"  speed to lead: {speed['leads']} lead{'' if speed['leads'] == 1 else 's'}"]
    if speed["leads"]:
        lines[-1] += f", median {speed['median_s']} s, p90 {speed['p90_s']} s"
    for title, rows in (("page", report.by_page), ("campaign", report.by_campaign)):
        header = "".join(f"{step.replace('_', ' '):>17}" for step in BREAKDOWN_STEPS)
        lines += ["", f"  by {title:<20}{header}"]
        for name, counts in rows.items():
            cells = "".join(f"{counts[step]:>17}" for step in BREAKDOWN_STEPS)
            lines.append(f"  {name[:23]:<23}{cells}")
    return "\n".join(lines) + "\n"
