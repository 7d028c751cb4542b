"""Rate limits of the public channels, counted per client address and shared through Redis.

Three limits, checked in this order for every chat message:

- ADDRESS_RATE_LIMIT messages per ADDRESS_RATE_WINDOW_S from one client address (whatever
  sender ids it uses: rotating them doesn't reset anything);
- WIDGET_RATE_LIMIT messages per WIDGET_RATE_WINDOW_S for one conversation (sender id), so one
  visitor behind a shared address (an office) can't use up its neighbours' budget alone;
- NEW_CONVERSATIONS_PER_HOUR sender ids never seen before (each is a new tracker in the
  database) from one address per hour.

Minting a widget session (`POST /webhooks/widget/session`) is a new conversation too: it counts
one request toward the address limit and one toward NEW_CONVERSATIONS_PER_HOUR, and marks the
minted id as seen, so that conversation's first message is not counted as new a second time.

With REDIS_URL the counters live in Redis (the `limits` package's moving windows), so every
Rasa worker and replica counts together; without it, in this process's memory. A Redis that
does not answer lets messages through (logged): the chat stays up, the limits come back with
it. Sender ids are kept only as hashes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from limits import RateLimitItemPerHour, RateLimitItemPerSecond
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

SEEN_SENDER_TTL_S = 24 * 3600  # a conversation idle for a day counts as new again
SEEN_SENDERS_IN_MEMORY = 200_000
REDIS_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Refusal:
    """Why a message is not processed, and when to try again (HTTP 429 + Retry-After)."""

    code: str
    detail: str
    retry_after_s: int


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )


class SeenSenders:
    """Sender ids seen lately; `first_time` is true once per id (atomic across processes)."""

    def __init__(self, redis_url: str = "", prefix: str = "leadbot") -> None:
        self._redis = redis_client(redis_url) if redis_url else None
        self._prefix = f"{prefix}:seen:"
        self._memory: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, sender: str) -> bool:
        key = self._prefix + hashed(sender)
        if self._redis is not None:
            return bool(self._redis.set(key, b"1", nx=True, ex=SEEN_SENDER_TTL_S))
        now = time.monotonic()
        with self._lock:
            seen = self._memory.pop(key, None)
            self._memory[key] = now
            while len(self._memory) > SEEN_SENDERS_IN_MEMORY:
                self._memory.popitem(last=False)
            return seen is None or now - seen > SEEN_SENDER_TTL_S

    def forget(self, sender: str) -> None:
        key = self._prefix + hashed(sender)
        if self._redis is not None:
            self._redis.delete(key)
        else:
            with self._lock:
                self._memory.pop(key, None)


class ChannelLimits:
    """The three limits above for one process; share them by giving every process REDIS_URL."""

    def __init__(
        self,
        address_limit: int,
        address_window_s: float,
        sender_limit: int,
        sender_window_s: float,
        new_conversations_per_hour: int,
        redis_url: str = "",
        prefix: str = "leadbot",
    ) -> None:
        self.shared = bool(redis_url)
        if redis_url:
            storage = storage_from_string(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            )
        else:
            storage = MemoryStorage()
        self._storage = storage  # the strategy only keeps a weak reference to it
        self._limiter = MovingWindowRateLimiter(storage)
        namespace = f"{prefix}:limit"
        self._address = RateLimitItemPerSecond(
            address_limit, _whole_seconds(address_window_s), namespace=namespace + ":address"
        )
        self._sender = RateLimitItemPerSecond(
            sender_limit, _whole_seconds(sender_window_s), namespace=namespace + ":sender"
        )
        self._new = RateLimitItemPerHour(
            new_conversations_per_hour, 1, namespace=namespace + ":new"
        )
        self._seen = SeenSenders(redis_url, prefix)
        self._warned_at = 0.0

    @classmethod
    def from_settings(cls, settings: Any) -> ChannelLimits:
        return cls(
            settings.address_rate_limit,
            settings.address_rate_window_s,
            settings.widget_rate_limit,
            settings.widget_rate_window_s,
            settings.new_conversations_per_hour,
            settings.redis_url,
            settings.redis_key_prefix,
        )

    def check(self, address: str, sender: str) -> Refusal | None:
        """Count a message from `address` in conversation `sender`; a Refusal if over a limit.

        Blocking (a Redis round trip or three when shared): async callers run it in a thread.
        """
        return self._counting(self._check, address, sender)

    def mint(self, address: str, sender: str) -> Refusal | None:
        """Count a new conversation `sender` that `address` starts (a minted widget session)
        before its first message; a Refusal if over a limit. Blocking, like `check`."""
        return self._counting(self._mint, address, sender)

    def _counting(
        self, count: Callable[[str, str], Refusal | None], address: str, sender: str
    ) -> Refusal | None:
        try:
            return count(address, sender)
        except Exception as error:  # noqa: BLE001 - Redis down: serve, say so (rarely)
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("rate limits not counted (Redis: %s)", type(error).__name__)
            return None

    def _mint(self, address: str, sender: str) -> Refusal | None:
        refusal = self._hit(
            self._address, address, "rate_limited", "too many requests from your address"
        ) or self._hit_new(address)
        if refusal is None:
            self._seen.first_time(sender)  # counted here: its first message is not new again
        return refusal

    def _check(self, address: str, sender: str) -> Refusal | None:
        refusal = self._hit(
            self._address, address, "rate_limited", "too many messages from your address"
        ) or self._hit(
            self._sender, hashed(sender), "rate_limited", "too many messages in this conversation"
        )
        if refusal is None and self._seen.first_time(sender):
            refusal = self._hit_new(address)
            if refusal is not None:
                self._seen.forget(sender)  # not started: it is still new when tried again
        return refusal

    def _hit_new(self, address: str) -> Refusal | None:
        return self._hit(
            self._new,
            address,
            "too_many_conversations",
            "too many new conversations from your address",
        )

    def _hit(self, item: Any, key: str, code: str, detail: str) -> Refusal | None:
        """Count one hit of `key` against the limit `item`; over it, the Refusal to give, with
        the seconds until its window lets `key` in again."""
        if self._limiter.hit(item, key):
            return None
        reset, _ = self._limiter.get_window_stats(item, key)
        return Refusal(code, detail, _whole_seconds(reset - time.time()))


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))
