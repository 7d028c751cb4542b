"""The states stored in the tables, as `str` enums: they serialise, compare and store exactly
as the plain strings they replace, and a typo is an AttributeError instead of a silent miss."""

from __future__ import annotations

from enum import Enum


class LeadStatus(str, Enum):
    """Where the visitor is in the questions."""

    IN_PROGRESS = "in_progress"
    PAUSED = "paused"  # "not now" in the middle of the form
    COMPLETE = "complete"


class Outcome(str, Enum):
    """What came of a lead (the export's `outcome`)."""

    NONE = "none"
    MEETING_BOOKED = "meeting_booked"
    NURTURE = "nurture"


class Tier(str, Enum):
    """The scoring tier; thresholds are in config/scoring.yml."""

    SALES_QUALIFIED = "sales_qualified"
    MARKETING_QUALIFIED = "marketing_qualified"
    COLD = "cold"


class ConsentPurpose(str, Enum):
    CONTACT = "contact"  # store the answers and be contacted about this request
    NURTURE = "nurture"  # follow-up emails


class DeliveryStatus(str, Enum):
    """An outbox item's life: pending -> sending (claimed) -> sent, or back, or failed."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class DeliveryPurpose(str, Enum):
    """What caused a delivery (unsubscribing cancels pending nurture items)."""

    BOOKING = "booking"
    NURTURE = "nurture"
    CRM = "crm"  # signed lead/meeting events (bot/crm)
    ACCOUNT = "account"  # a rep's invitation to the inbox
    HANDOFF = "handoff"  # a visitor asked for a person, or left them a message (bot/handoff)
    ERASURE = "erasure"  # what "forget me" sends (a CANCEL to the rep): nothing personal


class EnrollmentStatus(str, Enum):
    ACTIVE = "active"
    STOPPED = "stopped"
    COMPLETED = "completed"


class MeetingStatus(str, Enum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class HandoffKind(str, Enum):
    """What the visitor asked for."""

    LIVE = "live"  # a person in this chat, now
    CALLBACK = "callback"  # a call back instead of a meeting time


class HandoffState(str, Enum):
    """A handoff's life (bot/handoff/state.py has the allowed moves)."""

    WAITING = "waiting"  # in the queue; nobody has taken it yet
    LIVE = "live"  # a rep has taken over the chat; the bot is silent
    RETURNED = "returned"  # the rep handed the chat back to the bot
    CLOSED = "closed"  # the rep closed it (or marked a call back done)
    MISSED = "missed"  # nobody took it in time, or it came outside working hours
