"""Rep accounts and their sessions.

Passwords are stored only as argon2id hashes (argon2-cffi's defaults, rehashed on sign-in when
the defaults change). A session is a random token in the browser's cookie; the database keeps
only its SHA-256, so a leaked database copy can't sign anyone in. Each session carries its own
CSRF token for the forms it posts. Failed sign-ins are throttled per email and per address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Deque, Dict, List

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from bot.storage.engine import make_session_factory, unit_of_work
from bot.storage.models import RepAccount, RepInvite, RepSession
from bot.web.urls import PublicUrls

SESSION_LIFETIME = timedelta(hours=12)  # a working day; then sign in again
INVITE_LIFETIME = timedelta(hours=72)  # a long weekend: an invitation sent on Friday still works
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; this bounds the work per request

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class PasswordError(ValueError):
    """A password that can't be set: `rule` is "too_short" or "too_long", `limit` its bound.
    The message is for the operator's terminal (`python -m bot reps set-password`); the reps'
    welcome page words the rule itself (bot/web/templates/messages.txt)."""

    def __init__(self, rule: str, limit: int) -> None:
        self.rule, self.limit = rule, limit
        if rule == "too_short":
            super().__init__(f"a password needs at least {limit} characters")
        else:
            super().__init__(f"a password has at most {limit} characters")


@dataclass(frozen=True)
class SignedIn:
    """A valid session: who, and the CSRF token its forms must carry."""

    email: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    token: str  # for the cookie; never stored
    session: SignedIn


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordError("too_short", MIN_PASSWORD_CHARS)
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordError("too_long", MAX_PASSWORD_CHARS)


class Accounts:
    """Reads and writes rep accounts and sessions; one instance per process."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self._sessions = make_session_factory(engine)
        self._clock = clock

    # -- accounts ------------------------------------------------------------------------------
    def set_password(self, email: str, password: str) -> bool:
        """Create the account or change its password (signing out its sessions); True if new."""
        check_password_rules(password)
        email, now = normalise_email(email), self._clock()
        hashed = _hasher.hash(password)
        with unit_of_work(self._sessions) as session:
            account = session.execute(
                select(RepAccount).where(RepAccount.email == email)
            ).scalar_one_or_none()
            created = account is None
            if account is None:
                account = RepAccount(email=email, created_at=now)
                session.add(account)
            else:
                session.execute(delete(RepSession).where(RepSession.account_id == account.id))
            account.password_hash, account.password_set_at = hashed, now
            return created

    def invite(self, email: str, urls: PublicUrls) -> str:
        """Create the account (if new) and queue an email with a one-time link to choose a
        password, in one transaction with the outbox; returns the link."""
        from bot import emails
        from bot.outbox.queue import enqueue
        from bot.storage.enums import DeliveryPurpose

        email, now = normalise_email(email), self._clock()
        token = secrets.token_urlsafe(32)
        with unit_of_work(self._sessions) as session:
            account = session.execute(
                select(RepAccount).where(RepAccount.email == email)
            ).scalar_one_or_none()
            if account is None:
                account = RepAccount(email=email, created_at=now)
                session.add(account)
                session.flush()
            session.add(
                RepInvite(
                    id=_digest(token),
                    account_id=account.id,
                    created_at=now,
                    expires_at=now + INVITE_LIFETIME,
                )
            )
            url = urls.welcome(token)
            message = emails.render(
                "rep_invite.txt",
                email=email,
                invite_url=url,
                valid_hours=int(INVITE_LIFETIME.total_seconds() // 3600),
                login_url=urls.login(),
            )
            enqueue(
                session,
                "email",
                DeliveryPurpose.ACCOUNT,
                {"to": [email], "subject": message.subject, "text": message.text},
                now=now,
            )
        return url

    def invited(self, token: str | None) -> str | None:
        """The email an unused, unexpired invitation is for."""
        if not token or len(token) > 128:
            return None
        with unit_of_work(self._sessions) as session:
            row = session.execute(
                select(RepInvite.expires_at, RepAccount.email)
                .join(RepAccount, RepAccount.id == RepInvite.account_id)
                .where(RepInvite.id == _digest(token))
            ).first()
        return row.email if row is not None and row.expires_at > self._clock() else None

    def accept_invite(self, token: str, password: str) -> NewSession | None:
        """Set the password through an invitation (used up, with the account's others) and
        sign in; None when the link is unknown, used or expired. PasswordError: bad password."""
        check_password_rules(password)
        email = self.invited(token)
        if email is None:
            return None
        with unit_of_work(self._sessions) as session:
            account = session.execute(
                select(RepAccount).where(RepAccount.email == email)
            ).scalar_one()
            used = session.execute(
                delete(RepInvite).where(RepInvite.account_id == account.id)
            ).rowcount
            if not used:  # used up meanwhile by another request
                return None
            session.execute(delete(RepSession).where(RepSession.account_id == account.id))
            account.password_hash, account.password_set_at = _hasher.hash(password), self._clock()
        return self.sign_in(email, password)

    def emails(self) -> List[str]:
        with unit_of_work(self._sessions) as session:
            return list(
                session.execute(select(RepAccount.email).order_by(RepAccount.email)).scalars()
            )

    # -- sessions ------------------------------------------------------------------------------
    def sign_in(self, email: str, password: str) -> NewSession | None:
        """A new session when the password is right; None otherwise (same time either way)."""
        email, now = normalise_email(email), self._clock()
        if not password or len(password) > MAX_PASSWORD_CHARS:
            return None
        with unit_of_work(self._sessions) as session:
            account = session.execute(
                select(RepAccount).where(RepAccount.email == email)
            ).scalar_one_or_none()
            stored = account.password_hash if account is not None else None
            try:
                _hasher.verify(stored or _DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                return None
            if account is None or stored is None:
                return None
            if _hasher.check_needs_rehash(stored):
                account.password_hash = _hasher.hash(password)
            account.last_login_at = now
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            expires = now + SESSION_LIFETIME
            session.add(
                RepSession(
                    id=_digest(token),
                    account_id=account.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires,
                )
            )
            # Expired sessions of anyone go now: the table stays as small as the team.
            session.execute(delete(RepSession).where(RepSession.expires_at < now))
            return NewSession(token, SignedIn(email, csrf, expires))

    def session(self, token: str | None) -> SignedIn | None:
        """Who holds this cookie token, while the session lasts."""
        if not token or len(token) > 128:
            return None
        with unit_of_work(self._sessions) as session:
            row = session.execute(
                select(RepSession, RepAccount.email)
                .join(RepAccount, RepAccount.id == RepSession.account_id)
                .where(RepSession.id == _digest(token))
            ).first()
            if row is None:
                return None
            found, email = row
            if found.expires_at <= self._clock():
                session.delete(found)
                return None
            return SignedIn(email, found.csrf_token, found.expires_at)

    def sign_out(self, token: str | None) -> None:
        if not token:
            return
        with unit_of_work(self._sessions) as session:
            session.execute(delete(RepSession).where(RepSession.id == _digest(token)))


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


class LoginThrottle:
    """At most `attempts` failed sign-ins per key (an email, an address) in `window_s`.

    In memory: the inbox is served by one web process. Successful sign-ins don't count.
    """

    def __init__(
        self,
        attempts: int = 5,
        window_s: float = 900.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts, self.window_s, self._now = attempts, window_s, monotonic
        self._failures: Dict[str, Deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> Deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, *keys: str) -> int:
        """Seconds until a sign-in may be tried again for these keys (0: now)."""
        now = self._now()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.attempts:
                    wait = max(wait, failures[0] + self.window_s - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        now = self._now()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # many addresses: forget the quiet ones
                for key in [k for k, v in self._failures.items() if not v]:
                    del self._failures[key]
