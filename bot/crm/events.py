"""CRM events, one function per event, each written to the outbox in the caller's transaction.

Call them with the SQLAlchemy session of the change that causes the event: the event exists if
and only if that change commits, and the worker delivers it (signed webhook, HubSpot) with
retries. Every event is an envelope:

    {"id": "evt_…", "type": "lead.created", "occurred_at": "2026-12-02T10:00:00Z",
     "api_version": "2026-12-01", "data": {"lead": {"id": "<opaque lead id>", …}}}

`id` is unique per event (receivers de-duplicate on it); `data.lead.id` is the lead's opaque
public id, never the Rasa conversation id. The lead's fields are as they were when the event
happened. Outbox rows of lead events name the conversation, so an erasure deletes undelivered
ones with the rest of the lead's data; `lead.erased` itself carries only the opaque id.

Events are written only for a database engine that `enable(engine)` was called for:
`build_services` does it when a CRM target is configured (CRM_WEBHOOK_URL or HUBSPOT_TOKEN),
so a deployment without a CRM stores no event rows, and callers need no CRM settings.
"""

from __future__ import annotations

import json
import secrets
import weakref
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Dict, Mapping, Union

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.clock import utc_now
from bot.leads.record import LeadRecord
from bot.outbox.queue import enqueue
from bot.storage.enums import DeliveryPurpose
from bot.storage.models import Lead, Meeting, OutboxItem, new_public_id

API_VERSION = "2026-12-01"
OUTBOX_KIND = "crm"
Event = Union[Dict[str, Any], None]  # the envelope written, None when no CRM is configured

_ENABLED: weakref.WeakSet[Engine] = weakref.WeakSet()


def enable(engine: Engine) -> None:
    """Write CRM events for changes made through `engine` (a CRM target is configured)."""
    _ENABLED.add(engine)


def enabled(session: Session) -> bool:
    bind = session.get_bind()
    return getattr(bind, "engine", bind) in _ENABLED


class EventType(str, Enum):
    LEAD_CREATED = "lead.created"  # the visitor consented to be contacted: a lead exists
    LEAD_QUALIFIED = "lead.qualified"  # the questions are done and the lead is scored
    LEAD_NURTURED = "lead.nurtured"  # the lead was put on a nurture sequence
    MEETING_BOOKED = "meeting.booked"  # booked, or moved to a new time (sequence > 0)
    MEETING_CANCELLED = "meeting.cancelled"
    HANDOFF_REQUESTED = "handoff.requested"  # the visitor asked for a person
    LEAD_ERASED = "lead.erased"  # the visitor's data was erased (only the id is sent)
    NURTURE_STEP = "nurture.step"  # a nurture step of channel "webhook" is due


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def lead_id(lead: Lead) -> str:
    """The lead's opaque id, made now if the row has none yet (before its first flush)."""
    if not lead.public_id:
        lead.public_id = new_public_id()
    return lead.public_id


def lead_data(lead: Lead) -> Dict[str, Any]:
    """The lead as CRM events carry it: what it answered, its score, outcome and source."""
    lead_id(lead)
    return LeadRecord.from_row(lead, answers=()).to_crm()


def meeting_data(meeting: Meeting) -> Dict[str, Any]:
    if not meeting.public_id:
        meeting.public_id = new_public_id()
    status = meeting.status
    return {
        "id": meeting.public_id,
        "status": status.value if isinstance(status, Enum) else (status or "booked"),
        "start": _iso(meeting.start_utc),
        "end": _iso(meeting.end_utc),
        "rep_email": meeting.rep_email,
        "visitor_timezone": meeting.visitor_tz,
        "sequence": meeting.sequence or 0,
    }


def envelope(
    event_type: EventType, data: Mapping[str, Any], now: datetime | None = None
) -> Dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "type": EventType(event_type).value,
        "occurred_at": _iso(now or utc_now()),
        "api_version": API_VERSION,
        "data": dict(data),
    }


def emit(
    session: Session,
    event_type: EventType,
    data: Mapping[str, Any],
    conversation_id: str | None,
    now: datetime | None = None,
) -> Event:
    """Write one event to the outbox in `session`'s transaction; returns its envelope."""
    if not enabled(session):
        return None
    event = envelope(event_type, data, now)
    enqueue(session, OUTBOX_KIND, DeliveryPurpose.CRM, {"event": event}, conversation_id, now)
    return event


# -- one function per event ------------------------------------------------------------------


def lead_created(session: Session, lead: Lead, now: datetime | None = None) -> Event:
    return emit(
        session, EventType.LEAD_CREATED, {"lead": lead_data(lead)}, lead.conversation_id, now
    )


def lead_qualified(session: Session, lead: Lead, now: datetime | None = None) -> Event:
    """The lead scored (again, after a correction). Not written when the conversation's last
    `lead.qualified` carried the lead exactly as it is: the scoring turn ran again because its
    save to the tracker store failed (the visitor got the apology and answered again), and
    the CRM would get the same news twice under two event ids."""
    data = {"lead": lead_data(lead)}
    latest = _latest_data(session, EventType.LEAD_QUALIFIED, lead) if enabled(session) else None
    if latest is not None and latest == json.loads(json.dumps(data)):
        return None
    return emit(session, EventType.LEAD_QUALIFIED, data, lead.conversation_id, now)


def _latest_data(session: Session, event_type: EventType, lead: Lead) -> Any:
    """The data of the newest event of this type written for the lead's conversation (JSON
    types, as the outbox keeps it), or None."""
    payloads = session.execute(
        select(OutboxItem.payload)
        .where(
            OutboxItem.conversation_id == lead.conversation_id,
            OutboxItem.kind == OUTBOX_KIND,
        )
        .order_by(OutboxItem.id.desc())
    ).scalars()
    for payload in payloads:
        event = (payload or {}).get("event") or {}
        if event.get("type") == event_type.value:
            return json.loads(json.dumps(event.get("data")))
    return None


def lead_nurtured(
    session: Session, lead: Lead, sequence: str, now: datetime | None = None
) -> Event:
    data = {"lead": lead_data(lead), "nurture": {"sequence": sequence}}
    return emit(session, EventType.LEAD_NURTURED, data, lead.conversation_id, now)


def meeting_booked(
    session: Session,
    lead: Lead,
    meeting: Meeting,
    now: datetime | None = None,
    previous_start: datetime | None = None,
) -> Event:
    """A new meeting, or one moved to a new time (then `meeting.previous_start` is set)."""
    info = meeting_data(meeting)
    info["previous_start"] = _iso(previous_start)
    data = {"lead": lead_data(lead), "meeting": info}
    return emit(session, EventType.MEETING_BOOKED, data, lead.conversation_id, now)


def meeting_cancelled(
    session: Session, lead: Lead, meeting: Meeting, now: datetime | None = None
) -> Event:
    data = {"lead": lead_data(lead), "meeting": meeting_data(meeting)}
    return emit(session, EventType.MEETING_CANCELLED, data, lead.conversation_id, now)


def handoff_requested(
    session: Session, lead: Lead, now: datetime | None = None, reason: str | None = None
) -> Event:
    data = {"lead": lead_data(lead), "handoff": {"reason": reason}}
    return emit(session, EventType.HANDOFF_REQUESTED, data, lead.conversation_id, now)


def lead_erased(session: Session, lead: Lead, now: datetime | None = None) -> Event:
    """Only the opaque id, and no conversation on the outbox row: the erasure that deletes
    everything else about the lead keeps this one, so the CRM can erase its copy too."""
    return emit(session, EventType.LEAD_ERASED, {"lead": {"id": lead_id(lead)}}, None, now)


def nurture_step(
    session: Session,
    lead: Lead,
    sequence: str,
    step: str,
    subject: str,
    now: datetime | None = None,
) -> Event:
    data = {
        "lead": lead_data(lead),
        "nurture": {"sequence": sequence, "step": step, "subject": subject},
    }
    return emit(session, EventType.NURTURE_STEP, data, lead.conversation_id, now)
