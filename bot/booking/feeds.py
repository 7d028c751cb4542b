"""Each rep's calendar feed link: a token that is an HMAC of the rep's email with SECRET_KEY,
so no token is stored and a leaked feed link reveals nothing about other reps."""

from __future__ import annotations

import hashlib
import hmac

from bot.booking.reps import Rep, RepsConfig


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
