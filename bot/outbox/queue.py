"""The outbox: deliveries (emails, webhooks) written in the same transaction as what caused them.

The conversation only ever enqueues; a worker claims, delivers and records the result, retrying
with capped exponential backoff and jitter. Claiming is safe with several workers: on PostgreSQL
`SELECT ... FOR UPDATE SKIP LOCKED`, on SQLite a conditional UPDATE whose row count says who won.
A claim expires (`claimed_until`) so a crashed worker's items are picked up again; a live
worker renews its claims while it sends (`holding_claims`), so a slow endpoint can't make a
claim expire mid-send and a second worker send the item again. Each claim has an owner
(`claimed_by`): only the worker holding it may renew or settle the item.

A failing item is retried with backoff until it has failed `max_attempts` times *and*
`retry_for` has passed since it was queued (24 hours by default, OUTBOX_RETRY_HOURS), so an
outage of a night loses nothing; then it is `failed`, shown by `python -m bot outbox status`
and put back by `python -m bot outbox retry`.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Iterator, List, Mapping, Sequence

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.clock import utc_now
from bot.storage.engine import make_session_factory, unit_of_work
from bot.storage.enums import DeliveryStatus
from bot.storage.models import OutboxItem

log = logging.getLogger(__name__)

KINDS = ("email", "webhook", "crm")  # crm: a signed CRM event (bot/crm)
STATUSES = tuple(status.value for status in DeliveryStatus)
MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n: base * 2^(n-1), capped, then jittered down to (1 - jitter) of it.

    Jitter spreads the retries of many items that failed together (an endpoint that was down)
    so they don't all hit it again in the same second.
    """

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    jitter: float = 0.5

    def delay(self, attempts: int, rng: Callable[[], float] = random.random) -> timedelta:
        exponential = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=exponential * (1 - self.jitter * rng()))


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    purpose: str
    payload: Mapping[str, Any]
    attempts: int  # before this one


@dataclass(frozen=True)
class FailedItem:
    id: int
    kind: str
    purpose: str
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class OutboxStatus:
    counts: Mapping[str, int]
    failed: List[FailedItem] = field(default_factory=list)

    def render(self) -> str:
        lines = ["outbox: " + ", ".join(f"{s} {self.counts.get(s, 0)}" for s in STATUSES)]
        for item in self.failed:
            lines.append(
                f"  failed #{item.id} {item.kind}/{item.purpose} after {item.attempts} attempts: "
                f"{item.last_error or '?'} (queued {item.created_at:%Y-%m-%d %H:%M}Z)"
            )
        return "\n".join(lines)


def enqueue(
    session: Session,
    kind: str,
    purpose: str,
    payload: Mapping[str, Any],
    conversation_id: str | None = None,
    now: datetime | None = None,
) -> OutboxItem:
    """Add a delivery to the caller's transaction: it exists if and only if that commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    now = now or utc_now()
    item = OutboxItem(
        kind=kind,
        purpose=purpose,
        conversation_id=conversation_id,
        payload=dict(payload),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    return item


@dataclass(eq=False, repr=False)
class Outbox:
    """Claims and settles outbox items; one per worker process (thread-safe: no shared state)."""

    engine: Engine
    max_attempts: int = 8
    backoff: Backoff = Backoff()
    claim_seconds: float = 300.0
    rng: Callable[[], float] = random.random
    retry_for: timedelta = timedelta(0)
    # Who holds a claim: unique per Outbox (one per worker), readable by an operator.
    owner: str = ""

    def __post_init__(self) -> None:
        self._sessions = make_session_factory(self.engine)
        if not self.owner:
            self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _mine(self):  # type: ignore[no-untyped-def]
        return and_(
            OutboxItem.status == DeliveryStatus.SENDING, OutboxItem.claimed_by == self.owner
        )

    def _claimable(self, now: datetime):  # type: ignore[no-untyped-def]
        return or_(
            and_(OutboxItem.status == DeliveryStatus.PENDING, OutboxItem.next_attempt_at <= now),
            and_(OutboxItem.status == DeliveryStatus.SENDING, OutboxItem.claimed_until < now),
        )

    def claim(self, now: datetime, limit: int = 20) -> List[Claimed]:
        """Mark up to `limit` due items as ours (status 'sending') and return them."""
        until = now + timedelta(seconds=self.claim_seconds)
        for _ in range(5):  # SQLite: another worker may win every candidate; look again
            claimed = self._claim_once(now, until, limit)
            if claimed or self.engine.dialect.name == "postgresql" or not self._any_due(now):
                return claimed
        return []

    def _any_due(self, now: datetime) -> bool:
        with unit_of_work(self._sessions) as session:
            return (
                session.execute(select(OutboxItem.id).where(self._claimable(now)).limit(1)).first()
                is not None
            )

    def _claim_once(self, now: datetime, until: datetime, limit: int) -> List[Claimed]:
        order = (OutboxItem.next_attempt_at, OutboxItem.id)
        with unit_of_work(self._sessions) as session:
            if self.engine.dialect.name == "postgresql":
                rows = (
                    session.execute(
                        select(OutboxItem)
                        .where(self._claimable(now))
                        .order_by(*order)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                    .scalars()
                    .all()
                )
                for row in rows:
                    row.status, row.claimed_until = DeliveryStatus.SENDING, until
                    row.claimed_by = self.owner
                return [self._claimed(row) for row in rows]
            # SQLite: read candidates, then claim each with a conditional UPDATE; a row another
            # worker claimed in between no longer matches, and its row count is 0.
            ids = session.execute(
                select(OutboxItem.id).where(self._claimable(now)).order_by(*order).limit(limit)
            ).scalars()
            won = []
            for item_id in list(ids):
                claimed = session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id == item_id, self._claimable(now))
                    .values(
                        status=DeliveryStatus.SENDING, claimed_until=until, claimed_by=self.owner
                    )
                    .execution_options(synchronize_session=False)
                ).rowcount
                if claimed == 1:
                    won.append(item_id)
            if not won:
                return []
            rows = session.execute(select(OutboxItem).where(OutboxItem.id.in_(won))).scalars()
            return sorted((self._claimed(row) for row in rows), key=lambda c: won.index(c.id))

    @staticmethod
    def _claimed(row: OutboxItem) -> Claimed:
        return Claimed(row.id, row.kind, row.purpose, dict(row.payload), row.attempts)

    def renew(self, now: datetime) -> int:
        """Extend every claim this worker holds; returns how many it still holds."""
        with unit_of_work(self._sessions) as session:
            return session.execute(
                update(OutboxItem)
                .where(self._mine())
                .values(claimed_until=now + timedelta(seconds=self.claim_seconds))
                .execution_options(synchronize_session=False)
            ).rowcount

    @contextmanager
    def holding_claims(self, clock: Callable[[], datetime]) -> Iterator[None]:
        """Renew this worker's claims every third of `claim_seconds` while the block runs."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.claim_seconds / 3):
                try:
                    self.renew(clock())
                except Exception as error:  # noqa: BLE001 - try again at the next tick
                    log.warning("could not renew outbox claims: %s", type(error).__name__)

        thread = threading.Thread(target=renew, name="outbox-claims", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def release(self, item_ids: Sequence[int]) -> int:
        """Give back claimed items not attempted (the worker is stopping): due again at once."""
        if not item_ids:
            return 0
        with unit_of_work(self._sessions) as session:
            return session.execute(
                update(OutboxItem)
                .where(self._mine(), OutboxItem.id.in_(list(item_ids)))
                .values(status=DeliveryStatus.PENDING, claimed_until=None, claimed_by=None)
                .execution_options(synchronize_session=False)
            ).rowcount

    def release_mine(self) -> int:
        """Give back every claim this worker holds (it is between rounds, sending nothing)."""
        with unit_of_work(self._sessions) as session:
            return session.execute(
                update(OutboxItem)
                .where(self._mine())
                .values(status=DeliveryStatus.PENDING, claimed_until=None, claimed_by=None)
                .execution_options(synchronize_session=False)
            ).rowcount

    def mark_sent(self, item_id: int, now: datetime) -> bool:
        """Record the delivery, if this worker still holds the claim (else False, logged)."""
        with unit_of_work(self._sessions) as session:
            settled = session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, self._mine())
                .values(
                    status=DeliveryStatus.SENT,
                    sent_at=now,
                    attempts=OutboxItem.attempts + 1,
                    claimed_until=None,
                    claimed_by=None,
                    last_error=None,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        if not settled:
            log.warning("outbox item %s was sent but its claim was no longer ours", item_id)
        return bool(settled)

    def mark_failed(self, item_id: int, now: datetime, error: str) -> str:
        """Record a failed attempt: back to 'pending' after a backoff, or 'failed' for good.

        Only by the claim's owner: returns "lost" (and changes nothing) otherwise.
        """
        error = error[:MAX_ERROR_CHARS]
        with unit_of_work(self._sessions) as session:
            row = session.get(OutboxItem, item_id)
            if row is None:
                return "gone"  # erased meanwhile
            if row.status != DeliveryStatus.SENDING or row.claimed_by != self.owner:
                return "lost"
            row.attempts += 1
            row.last_error = error
            row.claimed_until = None
            row.claimed_by = None
            retried_long_enough = now - row.created_at >= self.retry_for
            if row.attempts >= self.max_attempts and retried_long_enough:
                row.status = DeliveryStatus.FAILED
                log.warning(
                    "outbox item %s (%s/%s) failed after %d attempts: %s",
                    row.id,
                    row.kind,
                    row.purpose,
                    row.attempts,
                    error,
                )
            else:
                row.status = DeliveryStatus.PENDING
                row.next_attempt_at = now + self.backoff.delay(row.attempts, self.rng)
            return row.status

    def status(self, failed_limit: int = 50) -> OutboxStatus:
        with unit_of_work(self._sessions) as session:
            counts: Dict[str, int] = dict(
                session.execute(
                    select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
                ).all()
            )
            failed = [
                FailedItem(r.id, r.kind, r.purpose, r.attempts, r.last_error, r.created_at)
                for r in session.execute(
                    select(OutboxItem)
                    .where(OutboxItem.status == DeliveryStatus.FAILED)
                    .order_by(OutboxItem.id.desc())
                    .limit(failed_limit)
                ).scalars()
            ]
            return OutboxStatus({s: counts.get(s, 0) for s in STATUSES}, failed)

    def retry_failed(self, now: datetime) -> int:
        """Put failed items back in the queue (after fixing the endpoint); returns how many."""
        with unit_of_work(self._sessions) as session:
            return session.execute(
                update(OutboxItem)
                .where(OutboxItem.status == DeliveryStatus.FAILED)
                .values(
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    claimed_until=None,
                    claimed_by=None,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
