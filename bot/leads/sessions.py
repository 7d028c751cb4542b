"""Visitor sessions: the proof that a browser owns the conversation it writes to.

A sender id alone is not a credential (it reaches logs of proxies, screenshots, support
tickets). The server mints each new conversation's id itself and signs it:
`token = base64url(HMAC-SHA256(SECRET_KEY, "visitor-session:" + sender_id))`. The widget keeps
both and sends the token with every message; the channel checks it. Reading or erasing
personal data ("what do you know about me?", "forget me") needs a checked token: the channel
records the result in the message metadata under `SESSION_METADATA_KEY`, overwriting whatever
the client sent there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

SESSION_METADATA_KEY = "leadbot_session_verified"
# Minted ids look like this; ids chosen by REST clients may be anything else.
SENDER_PATTERN = re.compile(r"^v-[A-Za-z0-9_-]{22,64}$")
MAX_TOKEN_CHARS = 128


@dataclass(frozen=True)
class VisitorSession:
    sender_id: str
    token: str


def _sign(key: bytes, sender_id: str) -> str:
    digest = hmac.new(key, f"visitor-session:{sender_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_session(key: bytes) -> VisitorSession:
    """A fresh conversation id, never chosen by the client, and its token."""
    sender_id = "v-" + secrets.token_urlsafe(24)
    return VisitorSession(sender_id, _sign(key, sender_id))


def verify(key: bytes, sender_id: object, token: object) -> bool:
    """Whether `token` was minted by this server for `sender_id` (constant-time)."""
    if not isinstance(sender_id, str) or not isinstance(token, str):
        return False
    if not token or len(token) > MAX_TOKEN_CHARS or not SENDER_PATTERN.match(sender_id):
        return False
    if not token.isascii():  # compare_digest refuses non-ASCII text (a TypeError, a 500)
        return False
    return hmac.compare_digest(_sign(key, sender_id), token)
