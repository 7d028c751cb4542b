"""iCalendar (RFC 5545) text: a meeting invite, and a rep's feed of upcoming meetings.

Pure functions: CRLF line endings, lines folded at 75 octets (never inside a UTF-8 sequence),
TEXT values escaped, times in UTC ("Z"), so every calendar shows the meeting in its own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, List

PRODID = "-//Leadbot//Leadbot 0.1//EN"
MAX_OCTETS = 75


@dataclass(frozen=True)
class Invite:
    uid: str  # stable per meeting, e.g. "meeting-12@leadbot"
    start_utc: datetime
    end_utc: datetime
    summary: str
    description: str
    organizer_email: str
    organizer_name: str
    attendee_email: str | None
    attendee_name: str | None
    stamp: datetime  # when this version of the invite was made
    url: str | None = None
    sequence: int = 0


def utc_stamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime in an invite")
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """RFC 5545 3.3.11: backslash, semicolon, comma escaped; newlines as \\n."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param(value: str) -> str:
    """A parameter value (CN=...): quoted, with the characters quotes cannot hold removed."""
    return '"' + value.replace('"', "'").replace("\r", " ").replace("\n", " ") + '"'


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces joined by CRLF + space (RFC 5545 3.1)."""
    pieces: List[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for char in line:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1  # continuation lines start with a space
        current += char
        size += octets
    pieces.append(current)
    return "\r\n ".join(pieces)


def _vevent(invite: Invite, status: str = "CONFIRMED") -> List[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{invite.uid}",
        f"DTSTAMP:{utc_stamp(invite.stamp)}",
        f"DTSTART:{utc_stamp(invite.start_utc)}",
        f"DTEND:{utc_stamp(invite.end_utc)}",
        f"SEQUENCE:{invite.sequence}",
        f"SUMMARY:{escape_text(invite.summary)}",
        f"DESCRIPTION:{escape_text(invite.description)}",
        f"ORGANIZER;CN={_param(invite.organizer_name)}:mailto:{invite.organizer_email}",
    ]
    if invite.attendee_email:
        name = f";CN={_param(invite.attendee_name)}" if invite.attendee_name else ""
        lines.append(
            f"ATTENDEE{name};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"
            f":mailto:{invite.attendee_email}"
        )
    if invite.url:
        lines.append(f"URL:{invite.url}")
    lines += [f"STATUS:{status}", "TRANSP:OPAQUE", "END:VEVENT"]
    return lines


def _calendar(body: List[str], method: str, name: str | None = None) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    lines.append(f"METHOD:{method}")
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    lines += body
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def invite_calendar(invite: Invite) -> str:
    """A VCALENDAR with METHOD:REQUEST and one VEVENT: what an email client shows as an invite."""
    return _calendar(_vevent(invite), "REQUEST")


def cancel_calendar(invite: Invite) -> str:
    """METHOD:CANCEL for a meeting: the same UID, a higher SEQUENCE, STATUS:CANCELLED; calendar
    apps remove the event they had from the REQUEST."""
    return _calendar(_vevent(invite, status="CANCELLED"), "CANCEL")


def feed_calendar(name: str, invites: Iterable[Invite]) -> str:
    """A subscribable feed (METHOD:PUBLISH) of several meetings, e.g. a rep's upcoming ones."""
    body: List[str] = []
    for invite in invites:
        body += _vevent(invite)
    return _calendar(body, "PUBLISH", name)


def unfold(text: str) -> List[str]:
    """Content lines of an iCalendar text (for tests and for reading invites back)."""
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")
