"""What the web process's routes share: settings, the services (made once at start-up by
`build_services`, closed at clean-up), the transcript reader and the secret key."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, List

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from bot.accounts.service import Accounts, LoginThrottle
from bot.booking.feeds import rep_feed_token
from bot.clock import utc_now
from bot.config.secret import resolve_secret_key
from bot.config.settings import Settings
from bot.services import Services, build_services
from bot.storage.engine import make_session_factory
from bot.storage.tracker import TrackerReader

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Feed:
    name: str
    email: str
    timezone: str
    url: str


@dataclass
class WebServices:
    """The core services plus what only the web process needs."""

    core: Services
    sessions: sessionmaker
    tracker: TrackerReader
    accounts: Accounts
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    _secret: bytes | None = None
    _secret_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, settings: Settings, clock: Clock) -> WebServices:
        core = build_services(settings, clock)
        return cls(
            core=core,
            sessions=make_session_factory(core.engine),
            tracker=TrackerReader(settings.tracker_store_url),
            accounts=Accounts(core.engine, core.clock),
        )

    @property
    def settings(self) -> Settings:
        return self.core.settings

    def now(self) -> datetime:
        return self.core.clock()

    def secret(self) -> bytes:
        """SECRET_KEY (or its file), resolved on first use: the file may be created then."""
        with self._secret_lock:
            if self._secret is None:
                self._secret = resolve_secret_key(
                    self.settings.secret_key, self.settings.secret_key_file
                )
            return self._secret

    def feeds(self) -> List[Feed]:
        """Each rep's personal calendar feed link."""
        return [
            Feed(
                rep.name,
                rep.email,
                rep.timezone,
                self.core.urls.rep_feed(rep_feed_token(self.secret(), rep.email)),
            )
            for rep in self.core.reps.reps
        ]

    def close(self) -> None:
        self.tracker.close()
        self.core.close()


class _Holder:
    """Filled at start-up (an app's state can't change once it runs)."""

    services: WebServices | None = None


SETTINGS_KEY = web.AppKey("settings", Settings)
HOLDER_KEY = web.AppKey("services", _Holder)
# Tests (and nothing else) may set a clock before start-up; default: the real time.
CLOCK_KEY = web.AppKey("clock", Callable[[], datetime])  # type: ignore[arg-type]


def services(request: web.Request) -> WebServices:
    made = request.app[HOLDER_KEY].services
    if made is None:  # pragma: no cover - only before start-up
        raise web.HTTPServiceUnavailable()
    return made


async def lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
    """Make the services at start-up (a broken reps or nurture file stops the process with the
    line at fault) and close them at clean-up."""
    made = await asyncio.to_thread(
        WebServices.create, app[SETTINGS_KEY], app.get(CLOCK_KEY, utc_now)
    )
    app[HOLDER_KEY].services = made
    yield
    app[HOLDER_KEY].services = None
    made.close()


def install(app: web.Application, settings: Settings) -> None:
    app[SETTINGS_KEY] = settings
    app[HOLDER_KEY] = _Holder()
    app.cleanup_ctx.append(lifecycle)
