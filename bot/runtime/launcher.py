"""`python -m bot serve`: the Rasa server, the action server and the web process, from Settings.

Writes the endpoints file Rasa reads (tracker store, lock store, action server URL) from
the same settings every other process uses, starts both servers, and stops both on Ctrl-C
or when either one exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

from sqlalchemy.engine import make_url

from bot.config.settings import PROJECT_ROOT, Settings
from bot.runtime.tokens import action_server_token, rasa_auth_token

TRACKER_STORE_TYPE = "rasa_ext.tracker_store.ErasableSQLTrackerStore"


def tracker_store_config(url: str) -> Dict[str, object]:
    """Rasa's SQL tracker store settings from one SQLAlchemy URL."""
    parsed = make_url(url)
    config: Dict[str, object] = {
        "type": TRACKER_STORE_TYPE,
        "dialect": parsed.drivername,
        "db": parsed.database or "",
    }
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        config.update(
            url=parsed.host or "127.0.0.1",
            port=parsed.port,
            username=parsed.username,
            password=parsed.password,
        )
    return {key: value for key, value in config.items() if value is not None}


def lock_store_config(url: str) -> Dict[str, object] | None:
    """Redis lock store (needed with several Rasa workers or replicas), or in-memory."""
    if not url:
        return None
    parsed = make_url(url)
    return {
        "type": "redis",
        "url": parsed.host or "127.0.0.1",
        "port": parsed.port or 6379,
        "db": int(parsed.database or 0),
        "password": parsed.password,
        "key_prefix": "leadbot",
    }


def endpoints(settings: Settings) -> Dict[str, object]:
    config: Dict[str, object] = {
        # The action server refuses calls without this header (rasa_ext/action_server.py).
        "action_endpoint": {
            "url": settings.action_endpoint_url,
            "headers": {"Authorization": f"Bearer {action_server_token(settings)}"},
        },
        "tracker_store": tracker_store_config(settings.tracker_store_url),
    }
    lock_store = lock_store_config(settings.lock_store_url)
    if lock_store:
        config["lock_store"] = {k: v for k, v in lock_store.items() if v is not None}
    return config


def write_endpoints(settings: Settings, path: Path) -> Path:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    # JSON is valid YAML, and needs no YAML library here. It holds the action server's
    # token: readable by this user only.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(json.dumps(endpoints(settings), indent=2) + "\n")
    return path


def commands(settings: Settings, model: Path, endpoints_file: Path) -> Dict[str, List[str]]:
    python = sys.executable
    return {
        "action server": [python, "-m", "bot", "serve", "--role", "actions"],
        "rasa server": [
            python,
            "-m",
            "rasa_ext.rasa_server",  # `rasa run` with the API token and log redaction
            "run",
            "--enable-api",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints_file),
            "--credentials",
            "credentials.yml",
            "--interface",
            settings.host,
            "--port",
            str(settings.rasa_port),
        ],
        "web": [python, "-m", "bot", "serve", "--role", "web"],
        # Sends due nurture steps and delivers the outbox (rep emails, webhooks).
        "worker": [python, "-m", "bot", "serve", "--role", "worker"],
    }


def serve(settings: Settings, model: Path, run_dir: Path = PROJECT_ROOT / ".run") -> int:
    """Start every process; return when one exits or on SIGINT/SIGTERM, stopping them all."""
    rasa_auth_token(settings)  # made once here, so every process reads the same token
    endpoints_file = write_endpoints(settings, run_dir / f"endpoints-{settings.rasa_port}.yml")
    processes: Dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    for name, command in commands(settings, model, endpoints_file).items():
        processes[name] = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, start_new_session=True
        )
    print(
        f"Leadbot: rasa on http://{settings.host}:{settings.rasa_port} "
        "(REST: /webhooks/rest/webhook), "
        f"actions on :{settings.action_port}, "
        f"web (widget, demo page) on {settings.public_base_url}. Ctrl-C stops everything.",
        flush=True,
    )
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(
                    f"{name} exited with code {process.returncode}; stopping the rest", flush=True
                )
                exit_code = process.returncode or 1
                stopping = True
                break
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    print("Leadbot stopped.", flush=True)
    return exit_code
