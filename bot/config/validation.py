"""Every setting checked before anything starts: a typo stops start-up, naming the variable.

`SMTP_STARTTLS=ture` used to mean "no TLS" (and the SMTP password in clear); `RASA_PORT=50o5`
a traceback from deep inside `int()`. `check_env()` reads each known variable with the type it
must have and raises one `SettingsError` that lists every bad variable and what it expects,
never echoing secret values. Unset or empty means "the default", as everywhere in Settings.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable, Dict, Mapping
from urllib.parse import urlsplit

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Never repeated in an error message: the operator knows what they typed.
SECRETS = frozenset(
    {
        "SMTP_PASSWORD",
        "SECRET_KEY",
        "INBOX_TOKEN",
        "RASA_AUTH_TOKEN",
        "ACTION_SERVER_TOKEN",
        "WEBHOOK_SECRET",
        "HUBSPOT_TOKEN",
    }
)
# A webhook secret shorter than this is guessable by brute force.
MIN_WEBHOOK_SECRET_CHARS = 16


class SettingsError(ValueError):
    """Settings that can't be used; `problems` maps each variable to what it expects."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        lines = [f"  {name}: {expected}" for name, expected in self.problems.items()]
        super().__init__("invalid settings (environment or .env):\n" + "\n".join(lines))


Check = Callable[[str], bool]


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    """`true/false/yes/no/on/off/1/0`; anything else is an error, not a silent `False`."""
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise SettingsError({name: f"expected true or false, got {value.strip()!r}"})


def _is_bool(value: str) -> bool:
    return value.strip().lower() in TRUE_WORDS | FALSE_WORDS


def _is_int(low: int | None = None, high: int | None = None) -> Check:
    def check(value: str) -> bool:
        try:
            number = int(value.strip())
        except ValueError:
            return False
        return (low is None or number >= low) and (high is None or number <= high)

    return check


def _is_float(low: float | None = None, high: float | None = None, above: bool = False) -> Check:
    def check(value: str) -> bool:
        try:
            number = float(value.strip())
        except ValueError:
            return False
        if number != number:  # NaN
            return False
        if low is not None and (number <= low if above else number < low):
            return False
        return high is None or number <= high

    return check


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _is_origins(value: str) -> bool:
    return all(_is_http_url(item) for item in value.split(",") if item.strip())


def _is_db_url(value: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value.strip())
    except (ArgumentError, ValueError):
        return False
    return True


def _is_redis_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in {"redis", "rediss"} and bool(parts.hostname)


def _is_host(value: str) -> bool:
    value = value.strip()
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})", value))


def _is_networks(value: str) -> bool:
    try:
        for item in value.split(","):
            if item.strip():
                ipaddress.ip_network(item.strip(), strict=False)
    except ValueError:
        return False
    return True


def _is_email(value: str) -> bool:
    return bool(re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value.strip()))


def _is_rates(value: str) -> bool:
    for pair in value.split(","):
        if not pair.strip():
            continue
        code, sep, rate = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z]{3}", code.strip()):
            return False
        if not _is_float(low=0, above=True)(rate):
            return False
    return True


def _is_log_level(value: str) -> bool:
    return value.strip().upper() in LOG_LEVELS


PORT = (_is_int(1, 65535), "a port number (1-65535)")


def _is_ports(value: str) -> bool:
    ports = [part for part in value.split(",") if part.strip()]
    return bool(ports) and all(_is_int(1, 65535)(part) for part in ports)


def _is_amqp_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in {"amqp", "amqps"} and bool(parts.hostname)


POSITIVE_INT = (_is_int(1), "a whole number of 1 or more")
POSITIVE_SECONDS = (_is_float(0, above=True), "a number of seconds above 0")
BOOL = (_is_bool, "true or false")
HTTP_URL = (_is_http_url, "an http:// or https:// URL")

# Variable -> (check, what it expects). Settings with free text (paths, names) aren't here.
RULES: Dict[str, tuple] = {
    "DATABASE_URL": (_is_db_url, "an SQLAlchemy URL such as postgresql+psycopg2://u:p@host/db"),
    "TRACKER_STORE_URL": (_is_db_url, "an SQLAlchemy URL such as postgresql://u:p@host/rasa"),
    "LOCK_STORE_URL": (_is_redis_url, "a redis:// URL"),
    "REDIS_URL": (_is_redis_url, "a redis:// URL"),
    "BIND_HOST": (_is_host, "an IP address or host name, such as 127.0.0.1"),
    "RASA_PORT": PORT,
    "ACTION_PORT": PORT,
    "WEB_PORT": PORT,
    "SMTP_PORT": PORT,
    "ACTION_ENDPOINT_URL": HTTP_URL,
    "PUBLIC_BASE_URL": HTTP_URL,
    "SITE_URL": HTTP_URL,
    "PRIVACY_POLICY_URL": HTTP_URL,
    "REP_WEBHOOK_URL": HTTP_URL,
    "CRM_WEBHOOK_URL": HTTP_URL,
    "HUBSPOT_BASE_URL": HTTP_URL,
    "ALLOWED_ORIGINS": (_is_origins, "comma-separated origins such as https://www.example.com"),
    "TRUSTED_PROXIES": (_is_networks, "comma-separated IP addresses or networks (10.0.0.0/8)"),
    "WIDGET_RATE_LIMIT": POSITIVE_INT,
    "WIDGET_RATE_WINDOW_S": POSITIVE_SECONDS,
    "ADDRESS_RATE_LIMIT": POSITIVE_INT,
    "ADDRESS_RATE_WINDOW_S": POSITIVE_SECONDS,
    "NEW_CONVERSATIONS_PER_HOUR": POSITIVE_INT,
    "LOG_LEVEL": (_is_log_level, "one of " + ", ".join(LOG_LEVELS)),
    "MAX_MESSAGE_CHARS": POSITIVE_INT,
    "CONSENT_TEXT_VERSION": (lambda v: bool(v.strip()), "a version label"),
    "SALES_CONTACT_EMAIL": (_is_email, "an email address"),
    "PRIVACY_CONTACT_EMAIL": (_is_email, "an email address"),
    "SMTP_FROM": (_is_email, "an email address (or Name <address>)"),
    "CURRENCY_RATES": (_is_rates, "CODE=rate pairs such as EUR=1.08,GBP=1.27"),
    "EMAIL_CHECK_DELIVERABILITY": BOOL,
    "SMTP_STARTTLS": BOOL,
    "REASK_EXPLAIN_AFTER": POSITIVE_INT,
    "DIGRESSION_CONFIDENCE": (_is_float(0, 1), "a number from 0 to 1"),
    "SCORE_THRESHOLD": (_is_int(0, 100), "a whole number from 0 to 100"),
    "SMTP_TIMEOUT_S": POSITIVE_SECONDS,
    "WEBHOOK_TIMEOUT_S": POSITIVE_SECONDS,
    "OUTBOX_MAX_ATTEMPTS": POSITIVE_INT,
    "OUTBOX_RETRY_HOURS": (_is_float(0), "a number of hours (0 or more)"),
    "OUTBOX_MAX_BACKOFF_S": POSITIVE_SECONDS,
    "OUTBOX_CLAIM_SECONDS": POSITIVE_SECONDS,
    "WORKER_POLL_SECONDS": POSITIVE_SECONDS,
    "CALENDAR_REFRESH_SECONDS": POSITIVE_SECONDS,
    "HANDOFF_WAIT_SECONDS": POSITIVE_SECONDS,
    "SALES_EMAIL": (_is_email, "an email address"),
    "RASA_URL": HTTP_URL,
    "EVENT_BROKER_URL": (_is_amqp_url, "an amqp:// URL such as amqp://guest:guest@127.0.0.1:5672"),
    "RASA_REPLICA_PORTS": (_is_ports, "comma-separated port numbers such as 5006,5007"),
    "ACTION_REPLICA_PORTS": (_is_ports, "comma-separated port numbers such as 5056,5057"),
    "WORKERS": POSITIVE_INT,
    "RETENTION_NO_CONSENT_DAYS": (_is_int(1), "a whole number of days (1 or more)"),
    "RETENTION_DAYS": (_is_int(1), "a whole number of days (1 or more)"),
    "SANIC_WORKERS": POSITIVE_INT,
    "WEBHOOK_SECRET": (
        lambda v: len(v.strip()) >= MIN_WEBHOOK_SECRET_CHARS,
        f"at least {MIN_WEBHOOK_SECRET_CHARS} characters",
    ),
}


def _requirements(env: Mapping[str, str]) -> Dict[str, str]:
    """Settings that only make sense together."""
    problems: Dict[str, str] = {}

    def given(name: str) -> bool:
        return bool((env.get(name) or "").strip())

    crm_url = env.get("CRM_WEBHOOK_URL") or ""
    if given("CRM_WEBHOOK_URL") and _is_http_url(crm_url) and not given("WEBHOOK_SECRET"):
        problems["WEBHOOK_SECRET"] = (
            "required when CRM_WEBHOOK_URL is set (CRM events are signed with it); make one "
            'with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return problems


def check_env(env: Mapping[str, str]) -> None:
    """Raise `SettingsError` naming every variable in `env` whose value can't be used."""
    problems: Dict[str, str] = {}
    for name, (check, expected) in RULES.items():
        value = env.get(name)
        if value is None or not value.strip():
            continue
        if not check(value):
            shown = "" if name in SECRETS else f", got {value.strip()[:80]!r}"
            problems[name] = f"expected {expected}{shown}"
    for name, problem in _requirements(env).items():
        problems.setdefault(name, problem)
    if problems:
        raise SettingsError(problems)
