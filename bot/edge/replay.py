"""Answer a retried chat message once: the widget resends a message it got no answer for with
the same `message_id`; whichever process (Rasa worker or replica) gets the retry returns the
reply already computed, or waits for the one being computed, instead of processing it twice.

With REDIS_URL the replies are kept in Redis (every process sees them); without it, in this
process's memory. Keys are hashes of (sender, message_id); replies are kept REPLAY_TTL_S.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, List, Tuple

from bot.edge.ratelimit import hashed, redis_client

REPLAY_TTL_S = 600
PENDING_TTL_S = 10  # renewed while computing: a process that dies frees the message soon
PENDING_RENEW_S = 3.0
REPLAY_MAX_IN_MEMORY = 5_000
POLL_S = 0.05

Replies = List[Any]
PENDING = b"pending"


class StillProcessing(Exception):
    """The message is being answered elsewhere and took longer than the wait allowed."""


class ReplayCache:
    def __init__(self, redis_url: str = "", prefix: str = "leadbot") -> None:
        self._redis = redis_client(redis_url) if redis_url else None
        self._prefix = f"{prefix}:replay:"
        self._memory: OrderedDict[str, Tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def shared(self) -> bool:
        return self._redis is not None

    def _key(self, sender: str, message_id: str) -> str:
        return self._prefix + hashed(f"{sender}\n{message_id}")

    # -- storage (blocking when shared) ---------------------------------------------------
    def _get(self, key: str) -> bytes | None:
        if self._redis is not None:
            return self._redis.get(key)
        with self._lock:
            entry = self._memory.get(key)
            if entry and entry[0] > time.monotonic():
                return entry[1]
            return None

    def _set(self, key: str, value: bytes, ttl: int, only_new: bool) -> bool:
        if self._redis is not None:
            return bool(self._redis.set(key, value, ex=ttl, nx=only_new))
        now = time.monotonic()
        with self._lock:
            while self._memory:
                oldest, (expires, _) = next(iter(self._memory.items()))
                if expires > now and len(self._memory) < REPLAY_MAX_IN_MEMORY:
                    break
                self._memory.pop(oldest)
            entry = self._memory.get(key)
            if only_new and entry and entry[0] > now:
                return False
            self._memory.pop(key, None)
            self._memory[key] = (now + ttl, value)
            return True

    def _delete(self, key: str) -> None:
        if self._redis is not None:
            self._redis.delete(key)
        else:
            with self._lock:
                self._memory.pop(key, None)

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._redis is None:
            return function(*args)
        return await asyncio.to_thread(function, *args)

    async def _keep_pending(self, key: str, finished: asyncio.Event) -> None:
        """Renew this process's claim while it computes (a dead process's claim expires)."""
        while True:
            try:
                await asyncio.wait_for(finished.wait(), PENDING_RENEW_S)
                return
            except asyncio.TimeoutError:
                pass
            try:
                await self._call(self._set, key, PENDING, PENDING_TTL_S, False)
            except Exception:  # noqa: BLE001 - Redis hiccup: the claim may lapse, no harm
                pass

    # -- the API the channel uses -----------------------------------------------------------
    async def earlier_reply(self, sender: str, message_id: str) -> Replies | None:
        """The reply of a message already answered, or None."""
        value = await self._call(self._get, self._key(sender, message_id))
        return None if value in (None, PENDING) else json.loads(value)

    async def once(
        self,
        sender: str,
        message_id: str,
        compute: Callable[[], Awaitable[Replies]],
        wait_s: float = 60.0,
    ) -> Replies:
        """`compute()`'s reply, computed once for this (sender, message_id) across processes."""
        key = self._key(sender, message_id)
        deadline = time.monotonic() + wait_s
        while True:
            if await self._call(self._set, key, PENDING, PENDING_TTL_S, True):
                finished = asyncio.Event()
                renewing = asyncio.ensure_future(self._keep_pending(key, finished))
                try:
                    replies = await compute()
                except BaseException:
                    finished.set()
                    await renewing
                    await self._call(self._delete, key)  # let a retry compute it again
                    raise
                finished.set()
                await renewing  # no renewal may land after the reply is stored
                encoded = json.dumps(replies).encode("utf-8")
                await self._call(self._set, key, encoded, REPLAY_TTL_S, False)
                return replies
            value = await self._call(self._get, key)
            if value not in (None, PENDING):
                return json.loads(value)
            if time.monotonic() > deadline:
                raise StillProcessing()
            await asyncio.sleep(POLL_S)
