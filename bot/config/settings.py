"""Settings for every Leadbot process, read from the environment (and `.env` at entry points).

One `Settings.from_env()` is the only place a setting is read; services get the values they
need through their constructors. `.env.example` documents every variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Tuple, TypeVar
from urllib.parse import urlsplit

from bot.config.currency import DEFAULT_RATES
from bot.config.validation import SettingsError, check_env, parse_bool
from bot.web.urls import PublicUrls

__all__ = ["PROJECT_ROOT", "Settings", "SettingsError", "origin_of"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]

N = TypeVar("N", int, float)

# USD per unit of each currency; operators set their own in CURRENCY_RATES.
DEFAULT_CURRENCY_RATES: Mapping[str, float] = DEFAULT_RATES


def _bool(value: str | None, default: bool, name: str = "setting") -> bool:
    return parse_bool(name, value, default)


def _locale(value: str) -> str:
    """A locale Babel knows (`en`, `en_GB`, `de-DE`), normalised to Babel's spelling."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(value.strip().replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        raise SettingsError(
            {"LOCALE": f"expected a locale such as en or de_DE, got {value!r}"}
        ) from None


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


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, as browsers send it in the Origin header."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _origins(value: str | None, public_base_url: str, web_port: int) -> Tuple[str, ...]:
    """ALLOWED_ORIGINS (comma-separated) plus the web process's own origins, deduplicated."""
    configured = [origin_of(item) for item in (value or "").split(",") if item.strip()]
    if not configured:
        configured = [f"http://127.0.0.1:{web_port}", f"http://localhost:{web_port}"]
    own = origin_of(public_base_url)
    return tuple(dict.fromkeys(origin for origin in [own, *configured] if origin))


def _ports(value: str) -> Tuple[int, ...]:
    """`5006,5007` as ports."""
    return tuple(int(item) for item in value.split(",") if item.strip())


def local_host(host: str) -> str:
    """A bind address as a client reaches it (0.0.0.0 means every interface)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


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
    # Babel locale for dates the visitor reads (meeting buttons): day and month names.
    locale: str = "en"
    privacy_policy_url: str = "http://127.0.0.1:8080/privacy"
    sales_contact_email: str = "sales@example.com"
    # Where visitors write about their data when the chat can't check it's them.
    privacy_contact_email: str = "privacy@example.com"
    currency_rates: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_CURRENCY_RATES)
    )
    check_email_deliverability: bool = False
    reask_explain_after: int = 2
    digression_confidence: float = 0.5
    log_level: str = "INFO"
    max_message_chars: int = 2000
    # The web process (widget.js, demo pages, health): see bot/web/app.py.
    web_port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    # The company's own website, linked from emails (nurture steps); default: public_base_url.
    site_url: str = "http://127.0.0.1:8080"
    # Origins (scheme://host[:port]) of the sites allowed to embed the chat widget; the web
    # process's own origins are always allowed.
    allowed_origins: Tuple[str, ...] = ("http://127.0.0.1:8080", "http://localhost:8080")
    widget_rate_limit: int = 20  # messages per sender per window
    widget_rate_window_s: float = 10.0
    # Scoring, routing and nurture: files a sales-ops person edits.
    scoring_file: Path = PROJECT_ROOT / "config" / "scoring.yml"
    reps_file: Path = PROJECT_ROOT / "config" / "reps.yml"
    nurture_file: Path = PROJECT_ROOT / "config" / "nurture.yml"
    # Overrides the sales_qualified threshold of the scoring file (None: the file decides).
    score_threshold: int | None = None
    # Outgoing email. Empty host: offline mode, messages are written to outbox_mail_dir.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_from: str = "leadbot@localhost"
    smtp_timeout_s: float = 10.0
    outbox_mail_dir: Path = PROJECT_ROOT / "var" / "outbox-mail"
    # Optional webhooks: Slack-compatible rep notification, CRM (lead JSON). Empty: off.
    rep_webhook_url: str = ""
    crm_webhook_url: str = ""
    # Key of the CRM webhooks' HMAC-SHA256 signatures (required with crm_webhook_url).
    webhook_secret: str = ""
    webhook_timeout_s: float = 10.0
    # HubSpot (bot/crm/hubspot.py): a private app's token; empty: the adapter is off.
    hubspot_token: str = ""
    hubspot_base_url: str = "https://api.hubapi.com"
    hubspot_pipeline: str = "default"
    hubspot_deal_stage: str = "appointmentscheduled"
    hubspot_cancelled_stage: str = "closedlost"  # where a cancelled meeting's deal goes
    # Reps' inbox: empty token means the inbox is disabled.
    inbox_token: str = ""
    # HMAC key for rep feed tokens; empty: read from (or created in) secret_key_file.
    secret_key: str = ""
    secret_key_file: Path = PROJECT_ROOT / "var" / "secret_key"
    outbox_max_attempts: int = 8
    worker_poll_seconds: float = 5.0
    # Retention (days): never-consented conversations, then leads since their last update.
    retention_no_consent_days: int = 30
    retention_days: int = 730
    # --- security (README "Security and privacy") ---
    # Token of Rasa's HTTP API (`--auth-token`); empty: generated into rasa_auth_token_file.
    rasa_auth_token: str = ""
    rasa_auth_token_file: Path = PROJECT_ROOT / "var" / "rasa_auth_token"
    # Shared secret Rasa sends the action server; empty: generated into its file.
    action_server_token: str = ""
    action_server_token_file: Path = PROJECT_ROOT / "var" / "action_server_token"
    # Redis for rate limits shared by every Rasa worker and replica (empty: per process).
    redis_url: str = ""
    # Prefix of every key Leadbot writes there (deployments sharing one Redis differ here).
    redis_key_prefix: str = "leadbot"
    # Addresses whose X-Forwarded-For is believed (load balancers, the web process).
    trusted_proxies: Tuple[str, ...] = ("127.0.0.1", "::1")
    # Per client address, on both channels: messages per window, new conversations per hour.
    address_rate_limit: int = 60
    address_rate_window_s: float = 60.0
    new_conversations_per_hour: int = 30
    # Outbox: a failing delivery is retried for at least this long (an SMTP outage of a
    # night loses nothing), backing off up to outbox_max_backoff_s between attempts.
    outbox_retry_hours: float = 24.0
    outbox_max_backoff_s: float = 1800.0
    outbox_claim_seconds: float = 300.0
    # Where the web process (and tools) reach the Rasa server, or its load balancer.
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa's RabbitMQ (Pika) event broker, amqp://user:password@host:port; empty: none.
    event_broker_url: str = ""
    event_broker_queue: str = "leadbot_events"
    # `python -m bot serve --production`: replicas behind HAProxy on RASA_PORT / ACTION_PORT.
    rasa_replica_ports: Tuple[int, ...] = (5006, 5007)
    action_replica_ports: Tuple[int, ...] = (5056, 5057)
    workers: int = 2
    # Reps' calendar feeds (calendar_url in the reps file): how often the worker reads them.
    calendar_refresh_seconds: float = 300.0
    # Handoff to a person (bot/handoff): how long a visitor waits for a rep to take over
    # before the bot says nobody could; where handoff emails go (empty: the routed rep).
    handoff_wait_seconds: float = 120.0
    sales_email: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: `os.environ`); unset or empty means default."""
        env = os.environ if env is None else env
        check_env(env)  # a typo stops start-up here, naming the variable (SettingsError)
        defaults = cls()

        def get(name: str, default: str) -> str:
            value = env.get(name, "")
            return value if value.strip() else default

        def number(name: str, default: N) -> N:
            """A numeric setting, of its default's type (int or float)."""
            return type(default)(get(name, str(default)))

        def path(name: str, default: Path) -> Path:
            return Path(get(name, str(default)))

        action_port = number("ACTION_PORT", defaults.action_port)
        rasa_port = number("RASA_PORT", defaults.rasa_port)
        host = get("BIND_HOST", defaults.host)
        web_port = number("WEB_PORT", defaults.web_port)
        public_base_url = get("PUBLIC_BASE_URL", f"http://{host}:{web_port}").rstrip("/")
        return cls(
            database_url=get("DATABASE_URL", defaults.database_url),
            tracker_store_url=get("TRACKER_STORE_URL", defaults.tracker_store_url),
            lock_store_url=get("LOCK_STORE_URL", ""),
            host=host,
            rasa_port=rasa_port,
            action_port=action_port,
            action_endpoint_url=get("ACTION_ENDPOINT_URL", f"http://{host}:{action_port}/webhook"),
            model_dir=path("MODEL_DIR", defaults.model_dir),
            consent_text_version=get("CONSENT_TEXT_VERSION", defaults.consent_text_version),
            locale=_locale(get("LOCALE", defaults.locale)),
            privacy_policy_url=get("PRIVACY_POLICY_URL", PublicUrls(public_base_url).privacy()),
            sales_contact_email=get("SALES_CONTACT_EMAIL", defaults.sales_contact_email),
            privacy_contact_email=get("PRIVACY_CONTACT_EMAIL", defaults.privacy_contact_email),
            currency_rates=_rates(env.get("CURRENCY_RATES")),
            check_email_deliverability=_bool(
                env.get("EMAIL_CHECK_DELIVERABILITY"), False, "EMAIL_CHECK_DELIVERABILITY"
            ),
            reask_explain_after=number("REASK_EXPLAIN_AFTER", defaults.reask_explain_after),
            digression_confidence=number("DIGRESSION_CONFIDENCE", defaults.digression_confidence),
            log_level=get("LOG_LEVEL", defaults.log_level).upper(),
            max_message_chars=number("MAX_MESSAGE_CHARS", defaults.max_message_chars),
            web_port=web_port,
            public_base_url=public_base_url,
            site_url=get("SITE_URL", public_base_url).rstrip("/"),
            allowed_origins=_origins(env.get("ALLOWED_ORIGINS"), public_base_url, web_port),
            widget_rate_limit=number("WIDGET_RATE_LIMIT", defaults.widget_rate_limit),
            widget_rate_window_s=number("WIDGET_RATE_WINDOW_S", defaults.widget_rate_window_s),
            scoring_file=path("SCORING_FILE", defaults.scoring_file),
            reps_file=path("REPS_FILE", defaults.reps_file),
            nurture_file=path("NURTURE_FILE", defaults.nurture_file),
            score_threshold=int(env["SCORE_THRESHOLD"])
            if env.get("SCORE_THRESHOLD", "").strip()
            else None,
            smtp_host=get("SMTP_HOST", ""),
            smtp_port=number("SMTP_PORT", defaults.smtp_port),
            smtp_user=get("SMTP_USER", ""),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env.get("SMTP_STARTTLS"), defaults.smtp_starttls, "SMTP_STARTTLS"),
            smtp_from=get("SMTP_FROM", defaults.smtp_from),
            smtp_timeout_s=number("SMTP_TIMEOUT_S", defaults.smtp_timeout_s),
            outbox_mail_dir=path("OUTBOX_MAIL_DIR", defaults.outbox_mail_dir),
            rep_webhook_url=get("REP_WEBHOOK_URL", ""),
            crm_webhook_url=get("CRM_WEBHOOK_URL", ""),
            webhook_secret=env.get("WEBHOOK_SECRET", "").strip(),
            hubspot_token=env.get("HUBSPOT_TOKEN", "").strip(),
            hubspot_base_url=get("HUBSPOT_BASE_URL", defaults.hubspot_base_url).rstrip("/"),
            hubspot_pipeline=get("HUBSPOT_PIPELINE", defaults.hubspot_pipeline).strip(),
            hubspot_deal_stage=get("HUBSPOT_DEAL_STAGE", defaults.hubspot_deal_stage).strip(),
            hubspot_cancelled_stage=get(
                "HUBSPOT_CANCELLED_STAGE", defaults.hubspot_cancelled_stage
            ).strip(),
            webhook_timeout_s=number("WEBHOOK_TIMEOUT_S", defaults.webhook_timeout_s),
            inbox_token=get("INBOX_TOKEN", ""),
            secret_key=get("SECRET_KEY", ""),
            secret_key_file=path("SECRET_KEY_FILE", defaults.secret_key_file),
            outbox_max_attempts=number("OUTBOX_MAX_ATTEMPTS", defaults.outbox_max_attempts),
            worker_poll_seconds=number("WORKER_POLL_SECONDS", defaults.worker_poll_seconds),
            retention_no_consent_days=number(
                "RETENTION_NO_CONSENT_DAYS", defaults.retention_no_consent_days
            ),
            retention_days=number("RETENTION_DAYS", defaults.retention_days),
            rasa_auth_token=get("RASA_AUTH_TOKEN", "").strip(),
            rasa_auth_token_file=path("RASA_AUTH_TOKEN_FILE", defaults.rasa_auth_token_file),
            action_server_token=get("ACTION_SERVER_TOKEN", "").strip(),
            action_server_token_file=path(
                "ACTION_SERVER_TOKEN_FILE", defaults.action_server_token_file
            ),
            redis_url=get("REDIS_URL", ""),
            redis_key_prefix=get("REDIS_KEY_PREFIX", defaults.redis_key_prefix).strip(),
            trusted_proxies=tuple(
                item.strip()
                for item in get("TRUSTED_PROXIES", ",".join(defaults.trusted_proxies)).split(",")
                if item.strip()
            ),
            address_rate_limit=number("ADDRESS_RATE_LIMIT", defaults.address_rate_limit),
            address_rate_window_s=number("ADDRESS_RATE_WINDOW_S", defaults.address_rate_window_s),
            new_conversations_per_hour=number(
                "NEW_CONVERSATIONS_PER_HOUR", defaults.new_conversations_per_hour
            ),
            outbox_retry_hours=number("OUTBOX_RETRY_HOURS", defaults.outbox_retry_hours),
            outbox_max_backoff_s=number("OUTBOX_MAX_BACKOFF_S", defaults.outbox_max_backoff_s),
            outbox_claim_seconds=number("OUTBOX_CLAIM_SECONDS", defaults.outbox_claim_seconds),
            rasa_url=get("RASA_URL", f"http://{local_host(host)}:{rasa_port}").rstrip("/"),
            event_broker_url=get("EVENT_BROKER_URL", ""),
            event_broker_queue=get("EVENT_BROKER_QUEUE", defaults.event_broker_queue),
            rasa_replica_ports=_ports(
                get("RASA_REPLICA_PORTS", f"{rasa_port + 1},{rasa_port + 2}")
            ),
            action_replica_ports=_ports(
                get("ACTION_REPLICA_PORTS", f"{action_port + 1},{action_port + 2}")
            ),
            workers=number("WORKERS", defaults.workers),
            calendar_refresh_seconds=number(
                "CALENDAR_REFRESH_SECONDS", defaults.calendar_refresh_seconds
            ),
            handoff_wait_seconds=number("HANDOFF_WAIT_SECONDS", defaults.handoff_wait_seconds),
            sales_email=get("SALES_EMAIL", "").strip(),
        )
