"""Webhook signatures: HMAC-SHA256 over `timestamp + "." + body` with WEBHOOK_SECRET.

The header is `Leadbot-Signature: t=<unix seconds>,v1=<hex digest>`. The timestamp is part of
what is signed, so a receiver that refuses timestamps older than `TOLERANCE_SECONDS` (5 minutes)
refuses replays of old requests; within the window, the event id (unique per event) lets it
drop a request it has already processed. README "CRM events" has the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Dict

SIGNATURE_HEADER = "Leadbot-Signature"
EVENT_ID_HEADER = "Leadbot-Event-Id"
EVENT_TYPE_HEADER = "Leadbot-Event-Type"
TOLERANCE_SECONDS = 300
SCHEME = "v1"


class SignatureError(ValueError):
    """The request is not one we signed, or too old to be trusted."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>." + body`."""
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={int(timestamp)},{SCHEME}={sign(secret, timestamp, body)}"


def parse_header(header: str) -> Dict[str, str]:
    parts: Dict[str, str] = {}
    for item in (header or "").split(","):
        key, sep, value = item.strip().partition("=")
        if sep and key not in parts:
            parts[key] = value
    return parts


def verify(
    secret: str, header: str, body: bytes, now: float, tolerance: int = TOLERANCE_SECONDS
) -> int:
    """Check a signature header against `body`; returns its timestamp or raises SignatureError."""
    parts = parse_header(header)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError) as error:
        raise SignatureError("no timestamp in the signature header") from error
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected, parts.get(SCHEME, "")):
        raise SignatureError("signature does not match")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the replay window")
    return timestamp
