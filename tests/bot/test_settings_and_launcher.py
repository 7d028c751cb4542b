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
