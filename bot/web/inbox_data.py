"""Data for the reps' inbox (plain functions; bot/web/app.py mounts them as routes).

Access: the inbox needs INBOX_TOKEN (empty: the inbox is off), compared in constant time.
Each rep's calendar feed has its own token, an HMAC of the rep's email with SECRET_KEY, so no
token is stored and a leaked feed link reveals nothing about other reps.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.booking.reps import Rep, RepsConfig
from bot.storage.models import Lead, LeadAnswer, Meeting

CSV_FIELDS = (
    "conversation_id",
    "created_at",
    "name",
    "email",
    "role",
    "seniority",
    "company",
    "company_size",
    "budget_usd",
    "timeline_months",
    "score",
    "tier",
    "outcome",
    "meeting_start",
    "rep_email",
    "source_page",
)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


# -- access -------------------------------------------------------------------------------


def check_token(given: str | None, expected: str) -> bool:
    """Constant-time token check; an empty expected token means "disabled" (always False)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def resolve_secret_key(secret_key: str, secret_key_file: Path) -> bytes:
    """SECRET_KEY, or the key in `secret_key_file`, created (mode 600) on first use."""
    if secret_key:
        return secret_key.encode("utf-8")
    path = Path(secret_key_file)
    if path.exists():
        return path.read_text().strip().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:  # O_EXCL: if two processes race, the second reads the first one's key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode("utf-8")
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key.encode("utf-8")


def rep_feed_token(secret: bytes, rep_email: str) -> str:
    digest = hmac.new(secret, f"feed:{rep_email.strip().lower()}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def rep_for_feed_token(secret: bytes, reps: RepsConfig, token: str) -> Rep | None:
    """The rep whose feed token this is (constant-time per comparison), or None."""
    found = None
    for rep in reps.reps:
        if hmac.compare_digest(rep_feed_token(secret, rep.email), token or ""):
            found = rep
    return found


# -- data ---------------------------------------------------------------------------------


def upcoming_meetings(session: Session, now: datetime, limit: int = 200) -> List[Dict[str, Any]]:
    """Meetings that have not ended yet, soonest first, with who is coming."""
    rows = session.execute(
        select(Meeting, Lead)
        .join(Lead, Lead.conversation_id == Meeting.conversation_id)
        .where(Meeting.end_utc >= now, Meeting.status == "booked")
        .order_by(Meeting.start_utc)
        .limit(limit)
    ).all()
    return [
        {
            "conversation_id": m.conversation_id,
            "start_utc": _iso(m.start_utc),
            "end_utc": _iso(m.end_utc),
            "rep_email": m.rep_email,
            "visitor_tz": m.visitor_tz,
            "name": lead.name,
            "email": lead.email,
            "company": lead.company,
            "score": lead.score,
            "tier": lead.tier,
        }
        for m, lead in rows
    ]


def recent_leads(session: Session, limit: int = 50) -> List[Dict[str, Any]]:
    """Newest leads first, with their typed answers, score breakdown and source page."""
    leads = (
        session.execute(select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(limit))
        .scalars()
        .all()
    )
    answers: Dict[int, Dict[str, Dict[str, Any]]] = {}
    if leads:
        for answer in session.execute(
            select(LeadAnswer).where(LeadAnswer.lead_id.in_([lead.id for lead in leads]))
        ).scalars():
            answers.setdefault(answer.lead_id, {})[answer.slot] = {
                "text": answer.raw_text,
                "status": answer.status,
            }
    result = []
    for lead in leads:
        source = lead.source or {}
        result.append(
            {
                "conversation_id": lead.conversation_id,
                "created_at": _iso(lead.created_at),
                "name": lead.name,
                "email": lead.email,
                "role": lead.role,
                "seniority": lead.seniority,
                "company": lead.company,
                "company_size": lead.company_size,
                "budget_usd": lead.budget_usd,
                "timeline_months": lead.timeline_months,
                "score": lead.score,
                "tier": lead.tier,
                "score_breakdown": lead.score_breakdown or [],
                "outcome": lead.outcome,
                "meeting_start": _iso(lead.meeting_start),
                "rep_email": lead.rep_email,
                "needs_human": lead.needs_human,
                "source_page": source.get("page_url"),
                "source": source,
                "answers": answers.get(lead.id, {}),
            }
        )
    return result


def _cell(value: Any) -> str:
    """CSV cell; text starting with = + - @ is prefixed so spreadsheets don't run it."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not isinstance(value, (int, float)):
        return "'" + text
    return text


def leads_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """`recent_leads()` rows as CSV (one header line, the fields in CSV_FIELDS)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in CSV_FIELDS])
    return buffer.getvalue()


def transcript(events: Sequence[Mapping[str, Any]]) -> List[Tuple[str, str, str | None]]:
    """(who, text, ISO time) for each visitor/bot message in Rasa tracker event dicts."""
    lines = []
    for event in events:
        kind = event.get("event") or event.get("type")
        if kind not in ("user", "bot"):
            continue
        text = event.get("text")
        if not text:
            buttons = (event.get("data") or {}).get("buttons") or []
            text = " | ".join(b.get("title", "") for b in buttons) if buttons else ""
        if not text:
            continue
        stamp = event.get("timestamp")
        at = (
            datetime.fromtimestamp(stamp, timezone.utc).isoformat().replace("+00:00", "Z")
            if isinstance(stamp, (int, float))
            else None
        )
        lines.append(("visitor" if kind == "user" else "bot", str(text), at))
    return lines
