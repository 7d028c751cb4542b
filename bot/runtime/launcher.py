"""`python -m bot serve`: the Rasa server, the action server and the web process, from Settings.

Writes the endpoints file Rasa reads (tracker store, lock store, action server URL) from
the same settings every other process uses, and starts every process with the same
`python -m bot serve --role …` command an operator (or a container) uses to run one of them,
under a supervisor (bot/runtime/supervisor.py) that restarts a crashed one and stops them all
on Ctrl-C.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from bot.config.settings import PROJECT_ROOT, Settings, local_host
from bot.runtime.supervisor import ProcessSpec, Supervisor, install_stop_handlers
from bot.runtime.tokens import action_server_token, rasa_auth_token

TRACKER_STORE_TYPE = "rasa_ext.tracker_store.ErasableSQLTrackerStore"


def make_url(url: str) -> Any:
    """SQLAlchemy's URL parser, imported when needed: the launcher process only supervises and
    stays running, so it does not keep SQLAlchemy in memory (reports/profile.md, "Memory")."""
    from sqlalchemy.engine import make_url as parse

    return parse(url)


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
        # The domain's responses, never the same reply three times running (rasa_ext/nlg.py).
        "nlg": {"type": "rasa_ext.nlg.NoRepeatNLG"},
    }
    lock_store = lock_store_config(settings.lock_store_url)
    if lock_store:
        config["lock_store"] = {k: v for k, v in lock_store.items() if v is not None}
    if settings.event_broker_url:
        config["event_broker"] = event_broker_config(
            settings.event_broker_url, settings.event_broker_queue
        )
    return config


def event_broker_config(url: str, queue: str) -> Dict[str, object]:
    """Rasa's Pika (RabbitMQ) event broker: every conversation event, for analytics and CRM."""
    parsed = make_url(url)
    config: Dict[str, object] = {
        "type": "pika",
        "url": parsed.host or "127.0.0.1",
        "port": parsed.port or 5672,
        "username": parsed.username or "guest",
        "password": parsed.password or "guest",
        "queues": [queue],
    }
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


def rasa_command(settings: Settings, model: Path, endpoints_file: Path) -> List[str]:
    """`rasa run` for one Rasa server (one replica) on RASA_PORT."""
    return [
        sys.executable,
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
    ]


def process_specs(settings: Settings) -> List[ProcessSpec]:
    """Every process of the stack, each started with its own `python -m bot serve --role`."""
    python = sys.executable

    def role(name: str) -> List[str]:
        return [python, "-m", "bot", "serve", "--role", name, "--no-train"]

    local = f"http://{local_host(settings.host)}"
    return [
        ProcessSpec("action server", role("actions"), f"{local}:{settings.action_port}/health"),
        # `/` answers only once the model is loaded (Sanic binds after the start-up hooks).
        ProcessSpec("rasa server", role("rasa"), f"{local}:{settings.rasa_port}/"),
        ProcessSpec("web", role("web"), f"{local}:{settings.web_port}/health"),
        # Sends due nurture steps and delivers the outbox (rep emails, webhooks).
        ProcessSpec("worker", role("worker")),
    ]


def pid_dir(settings: Settings, run_dir: Path = PROJECT_ROOT / ".run") -> Path:
    """Where the launcher keeps each running process's pid (`<name>.pid`), for operators."""
    return run_dir / f"pids-{settings.rasa_port}"


def run_until_stopped(supervisor: Supervisor, ready_line: Callable[[float], str]) -> int:
    """Run `supervisor` until Ctrl-C / SIGTERM; once every server answers, print
    `ready_line(seconds since start)`, so the URLs are never shown before they work."""
    install_stop_handlers(supervisor)
    started = time.monotonic()

    def ready() -> None:
        print(ready_line(time.monotonic() - started), flush=True)

    code = supervisor.run(on_ready=ready)
    print("Leadbot stopped.", flush=True)
    return code


def upgrade_database(database_url: str, env: Dict[str, str] | None = None) -> int:
    """`python -m bot db upgrade` in a child process; its exit code. Alembic, Mako and
    SQLAlchemy (~40 MiB) are then never loaded into the long-running launcher."""
    import subprocess

    child_env = dict(os.environ if env is None else env)
    child_env.update(DATABASE_URL=database_url, PYTHONPATH=str(PROJECT_ROOT))
    command = [sys.executable, "-m", "bot", "db", "upgrade"]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=child_env, check=False).returncode


def serve(settings: Settings, run_dir: Path = PROJECT_ROOT / ".run") -> int:
    """Start every process and keep them running until Ctrl-C / SIGTERM.

    A process that exits is restarted with backoff while the others keep serving (a visitor
    whose turn needs the action server meanwhile gets an apology, and the form carries on once
    it is back); a process that keeps exiting is reported as a crash loop. The URLs are
    printed once every server answers.
    """
    # Made once here, so every process (and every restart) reads the same secrets.
    rasa_auth_token(settings)
    action_server_token(settings)
    supervisor = Supervisor(
        process_specs(settings),
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)),
        pid_dir=pid_dir(settings, run_dir),
    )
    print("Leadbot: starting the Rasa server, the action server, the web process and the worker")
    print("Leadbot: (the URLs follow once every server answers)", flush=True)
    return run_until_stopped(
        supervisor,
        lambda seconds: (
            f"Leadbot is ready after {seconds:.0f} s: "
            f"rasa on http://{settings.host}:{settings.rasa_port} "
            "(REST: /webhooks/rest/webhook), "
            f"actions on :{settings.action_port}, "
            f"web (widget, demo page) on {settings.public_base_url}. Ctrl-C stops everything."
        ),
    )
