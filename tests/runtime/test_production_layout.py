"""The production layout's pieces, from the settings: HAProxy's configuration (checked by
HAProxy itself), Rasa's event broker and lock store, and what `--production` refuses."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.runtime.launcher import endpoints
from bot.runtime.math_threads import MATH_THREAD_SETTINGS
from bot.runtime.production import (
    ProductionConfigError,
    check,
    haproxy_config,
    process_specs,
    with_local_services,
)

PRODUCTION_ENV = with_local_services({"RASA_PORT": "6000", "ACTION_PORT": "6100"})


def test_the_layout_from_settings() -> None:
    settings = Settings.from_env(PRODUCTION_ENV)
    assert settings.rasa_replica_ports == (6001, 6002)
    assert settings.action_replica_ports == (6101, 6102)
    assert settings.rasa_url == "http://127.0.0.1:6000"  # the web process goes through HAProxy
    names = [spec.name for spec in process_specs(settings, Path("haproxy.cfg"))]
    assert names == [
        "haproxy",
        "action server 1",
        "action server 2",
        "rasa replica 1",
        "rasa replica 2",
        "web",
        "worker 1",
        "worker 2",
    ]
    roles = {
        spec.name: spec.command[spec.command.index("--role") + 1]
        for spec in process_specs(settings, Path("haproxy.cfg"))
        if "--role" in spec.command
    }
    assert set(roles.values()) == {"rasa", "actions", "web", "worker"}
    replica = next(s for s in process_specs(settings, Path("x")) if s.name == "rasa replica 2")
    assert {k: replica.env[k] for k in ("RASA_PORT", "ACTION_ENDPOINT_URL")} == {
        "RASA_PORT": "6002",
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:6100/webhook",  # the action servers' HAProxy
    }


def test_the_replicas_share_the_cores_for_their_math_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in MATH_THREAD_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SANIC_WORKERS", raising=False)
    settings = Settings.from_env(PRODUCTION_ENV)  # two replicas
    replicas = [s for s in process_specs(settings, Path("x")) if s.name.startswith("rasa")]
    expected = str(max(1, (os.cpu_count() or 1) // 2))
    assert [r.env["OPENBLAS_NUM_THREADS"] for r in replicas] == [expected, expected]
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")  # the operator's own setting wins
    replicas = [s for s in process_specs(settings, Path("x")) if s.name.startswith("rasa")]
    assert {r.env["OPENBLAS_NUM_THREADS"] for r in replicas} == {"3"}


def test_rasa_gets_the_event_broker_and_the_lock_store() -> None:
    config = endpoints(Settings.from_env(PRODUCTION_ENV))
    assert config["event_broker"] == {
        "type": "pika",
        "url": "127.0.0.1",
        "port": 5672,
        "username": "guest",
        "password": "guest",
        "queues": ["leadbot_events"],
    }
    assert config["lock_store"]["type"] == "redis"
    assert "event_broker" not in endpoints(Settings.from_env({}))


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
def test_haproxy_accepts_its_configuration(tmp_path: Path) -> None:
    text = haproxy_config(Settings.from_env(PRODUCTION_ENV))
    assert "option httpchk GET /status" in text and "server rasa2 127.0.0.1:6002" in text
    (tmp_path / "haproxy.cfg").write_text(text)
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_what_would_lose_data() -> None:
    with pytest.raises(ProductionConfigError, match="DATABASE_URL must be PostgreSQL"):
        check(Settings.from_env({**PRODUCTION_ENV, "DATABASE_URL": "sqlite:///x.db"}))
    with pytest.raises(ProductionConfigError, match="LOCK_STORE_URL must be Redis"):
        check(Settings.from_env({**PRODUCTION_ENV, "LOCK_STORE_URL": " "}))
