"""The visitor's link to manage a booked meeting (cancel, or pick a new time).

The token is `<meeting public id>-<HMAC-SHA256(SECRET_KEY, "meeting:" + public id)>`, url-safe:
the public id is random and says nothing about the visitor; the HMAC makes a token impossible
to guess or to derive from another meeting's. No token is stored; changing SECRET_KEY voids
every link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_TOKEN = re.compile(r"^([0-9a-f]{8,32})-([A-Za-z0-9_-]{32})$")


def _mac(secret: bytes, public_id: str) -> str:
    digest = hmac.new(secret, f"meeting:{public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")[:32]


def manage_token(secret: bytes, public_id: str) -> str:
    return f"{public_id}-{_mac(secret, public_id)}"


def meeting_for_token(secret: bytes, token: str) -> str | None:
    """The meeting public id this token was made for, or None (malformed or forged)."""
    match = _TOKEN.match(token or "")
    if match is None:
        return None
    public_id, mac = match.groups()
    return public_id if hmac.compare_digest(_mac(secret, public_id), mac) else None
