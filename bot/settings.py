"""Settings for every Leadbot process, read from the environment (and `.env` at entry points).

One `Settings.from_env()` is the only place a setting is read; services get the values they
need through their constructors. `.env.example` documents every variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# USD per unit of each currency. Rough mid-2026 rates; operators set their own in CURRENCY_RATES.
DEFAULT_CURRENCY_RATES: Mapping[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "CAD": 0.73,
    "AUD": 0.66,
    "CHF": 1.13,
    "INR": 0.012,
    "JPY": 0.0067,
}


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _rates(value: str | None) -> Mapping[str, float]:
    """Parse `EUR=1.08,GBP=1.27` on top of the defaults (so one override doesn't drop the rest)."""
    rates = dict(DEFAULT_CURRENCY_RATES)
    for pair in (value or "").split(","):
        if not pair.strip():
            continue
        code, _, rate = pair.partition("=")
        try:
            rates[code.strip().upper()] = float(rate)
        except ValueError as error:
            raise ValueError(
                f"CURRENCY_RATES: cannot read {pair.strip()!r} as CODE=rate"
            ) from error
    return rates


def _sqlite_default(name: str) -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / name}"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with defaults that run on a laptop with nothing to edit."""

    database_url: str = field(default_factory=lambda: _sqlite_default("leadbot.db"))
    tracker_store_url: str = field(default_factory=lambda: _sqlite_default("tracker.db"))
    lock_store_url: str = ""
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    action_endpoint_url: str = ""
    model_dir: Path = PROJECT_ROOT / "models"
    consent_text_version: str = "2026-11-01"
    privacy_policy_url: str = "http://127.0.0.1:8080/privacy"
    sales_contact_email: str = "sales@example.com"
    currency_rates: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_CURRENCY_RATES)
    )
    check_email_deliverability: bool = False
    reask_explain_after: int = 2
    digression_confidence: float = 0.5
    log_level: str = "INFO"
    max_message_chars: int = 2000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: `os.environ`); unset or empty means default."""
        env = os.environ if env is None else env
        defaults = cls()

        def get(name: str, default: str) -> str:
            value = env.get(name, "")
            return value if value.strip() else default

        action_port = int(get("ACTION_PORT", str(defaults.action_port)))
        host = get("BIND_HOST", defaults.host)
        return cls(
            database_url=get("DATABASE_URL", defaults.database_url),
            tracker_store_url=get("TRACKER_STORE_URL", defaults.tracker_store_url),
            lock_store_url=get("LOCK_STORE_URL", ""),
            host=host,
            rasa_port=int(get("RASA_PORT", str(defaults.rasa_port))),
            action_port=action_port,
            action_endpoint_url=get("ACTION_ENDPOINT_URL", f"http://{host}:{action_port}/webhook"),
            model_dir=Path(get("MODEL_DIR", str(defaults.model_dir))),
            consent_text_version=get("CONSENT_TEXT_VERSION", defaults.consent_text_version),
            privacy_policy_url=get("PRIVACY_POLICY_URL", defaults.privacy_policy_url),
            sales_contact_email=get("SALES_CONTACT_EMAIL", defaults.sales_contact_email),
            currency_rates=_rates(env.get("CURRENCY_RATES")),
            check_email_deliverability=_bool(env.get("EMAIL_CHECK_DELIVERABILITY"), False),
            reask_explain_after=int(get("REASK_EXPLAIN_AFTER", str(defaults.reask_explain_after))),
            digression_confidence=float(
                get("DIGRESSION_CONFIDENCE", str(defaults.digression_confidence))
            ),
            log_level=get("LOG_LEVEL", defaults.log_level).upper(),
            max_message_chars=int(get("MAX_MESSAGE_CHARS", str(defaults.max_message_chars))),
        )
