"""Settings come from the environment with working defaults; the launcher turns them into
Rasa's endpoints (SQLite or PostgreSQL tracker store, optional Redis lock store)."""

from __future__ import annotations

import pytest

from bot.config.settings import DEFAULT_CURRENCY_RATES, Settings
from bot.runtime.launcher import endpoints, lock_store_config, tracker_store_config


def test_defaults_need_no_configuration() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith(
        "var/leadbot.db"
    )
    assert settings.tracker_store_url.endswith("var/tracker.db")
    assert (settings.rasa_port, settings.action_port) == (5005, 5055)
    assert settings.action_endpoint_url == "http://127.0.0.1:5055/webhook"
    assert settings.check_email_deliverability is False
    assert settings.currency_rates == DEFAULT_CURRENCY_RATES


def test_environment_overrides_and_empty_means_default() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+psycopg2://u:p@db:5432/leads",
            "ACTION_PORT": "6000",
            "RASA_PORT": "",
            "CURRENCY_RATES": "gbp=1.30, SEK=0.095",
            "EMAIL_CHECK_DELIVERABILITY": "true",
        }
    )
    assert settings.database_url == "postgresql+psycopg2://u:p@db:5432/leads"
    assert settings.rasa_port == 5005
    assert settings.action_endpoint_url == "http://127.0.0.1:6000/webhook"
    assert settings.currency_rates["GBP"] == 1.30 and settings.currency_rates["SEK"] == 0.095
    assert settings.currency_rates["EUR"] == DEFAULT_CURRENCY_RATES["EUR"]
    assert settings.check_email_deliverability is True


def test_a_broken_rate_names_itself() -> None:
    with pytest.raises(ValueError, match="GBP=lots"):
        Settings.from_env({"CURRENCY_RATES": "GBP=lots"})


def test_tracker_store_from_sqlite_and_postgres_urls(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sqlite = tracker_store_config(f"sqlite:///{tmp_path}/t.db")
    assert sqlite == {
        "type": "rasa_ext.tracker_store.ErasableSQLTrackerStore",
        "dialect": "sqlite",
        "db": f"{tmp_path}/t.db",
    }
    postgres = tracker_store_config("postgresql://rasa:secret@db.internal:5433/rasa")
    assert postgres["dialect"] == "postgresql" and postgres["url"] == "db.internal"
    assert (postgres["port"], postgres["username"], postgres["password"], postgres["db"]) == (
        5433,
        "rasa",
        "secret",
        "rasa",
    )


def test_lock_store_is_redis_only_when_configured() -> None:
    assert lock_store_config("") is None
    assert lock_store_config("redis://127.0.0.1:6379/2")["db"] == 2
    config = endpoints(Settings.from_env({"LOCK_STORE_URL": "redis://127.0.0.1:6379/0"}))
    assert config["lock_store"]["type"] == "redis"
    assert "lock_store" not in endpoints(Settings.from_env({}))


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("SMTP_STARTTLS", "ture", "true or false"),
        ("EMAIL_CHECK_DELIVERABILITY", "maybe", "true or false"),
        ("RASA_PORT", "50o5", "port number"),
        ("ACTION_PORT", "70000", "port number"),
        ("WIDGET_RATE_LIMIT", "-1", "1 or more"),
        ("DIGRESSION_CONFIDENCE", "1.5", "from 0 to 1"),
        ("SCORE_THRESHOLD", "high", "0 to 100"),
        ("LOG_LEVEL", "LOUD", "DEBUG"),
        ("CRM_WEBHOOK_URL", "crm.example.com/hook", "http"),
        ("ALLOWED_ORIGINS", "https://ok.example,www.example.com", "origins"),
        ("DATABASE_URL", "not a url", "SQLAlchemy URL"),
        ("LOCK_STORE_URL", "localhost:6379", "redis://"),
        ("TRUSTED_PROXIES", "10.0.0.0/33", "IP addresses"),
        ("SMTP_TIMEOUT_S", "0", "seconds above 0"),
        ("OUTBOX_RETRY_HOURS", "a day", "hours"),
        ("SALES_CONTACT_EMAIL", "sales", "email address"),
    ],
)
def test_a_typo_in_any_setting_names_the_variable_and_what_it_expects(
    name: str, value: str, expected: str
) -> None:
    from bot.config.settings import SettingsError

    with pytest.raises(SettingsError) as error:
        Settings.from_env({name: value})
    assert list(error.value.problems) == [name]
    assert name in str(error.value) and expected in str(error.value)


def test_every_bad_setting_is_listed_at_once_and_secrets_are_not_echoed() -> None:
    from bot.config.settings import SettingsError

    with pytest.raises(SettingsError) as error:
        Settings.from_env({"SMTP_STARTTLS": "ture", "WEB_PORT": "x", "SMTP_PASSWORD": "s3cret"})
    assert set(error.value.problems) == {"SMTP_STARTTLS", "WEB_PORT"}
    assert "s3cret" not in str(error.value)


def test_start_up_stops_on_a_typo_before_starting_anything() -> None:
    import os
    import subprocess
    import sys
    import time

    from bot.config.settings import PROJECT_ROOT

    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--no-train"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, SMTP_STARTTLS="ture"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SMTP_STARTTLS: expected true or false, got 'ture'" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30


def test_the_launcher_migrates_the_database_in_a_child_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Alembic and SQLAlchemy stay out of the long-running launcher; the schema is the same,
    and a migration that fails stops the start-up with the child's exit code."""
    import sqlite3

    from bot.runtime.launcher import upgrade_database

    database = tmp_path / "leads.db"
    assert upgrade_database(f"sqlite:///{database}") == 0
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"alembic_version", "leads"} <= tables
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    assert upgrade_database(f"sqlite:///{blocked / 'leads.db'}") != 0
