"""`python -m bot serve --production` (`make run-prod`): the production layout on one machine.

Two or more Rasa replicas, each its own `python -m bot serve --role rasa` on its own port, and
two or more action servers, each behind HAProxy (which checks Rasa's `/status` and the action
server's `/health`); the web process reaching Rasa through the load balancer (RASA_URL); two or
more workers; PostgreSQL for leads and Rasa's tracker store, the Redis lock store and Rasa's
RabbitMQ (Pika) event broker. The same role commands run one process each in containers
(Dockerfile, compose.yaml). Every process is supervised like `make run`'s.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Mapping

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config.settings import PROJECT_ROOT, Settings, local_host
from bot.runtime.launcher import pid_dir, run_until_stopped
from bot.runtime.math_threads import math_thread_env, sanic_workers
from bot.runtime.supervisor import ProcessSpec, Supervisor

# The services this machine runs (CI, a developer's box): what `make run-prod` uses for
# whatever the environment and .env leave unset.
LOCAL_SERVICES: Mapping[str, str] = {
    "DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:5432/leadbot",
    "TRACKER_STORE_URL": "postgresql://postgres@127.0.0.1:5432/leadbot_tracker",
    "LOCK_STORE_URL": "redis://127.0.0.1:6379/0",
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # the channels' limits, shared by the replicas
    "EVENT_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672",
}


class ProductionConfigError(Exception):
    """The settings cannot run the production layout; the message says what to change."""


def with_local_services(env: Mapping[str, str]) -> Dict[str, str]:
    """`env` with this machine's services wherever a setting is unset or empty."""
    merged = dict(env)
    for name, value in LOCAL_SERVICES.items():
        if not merged.get(name, "").strip():
            merged[name] = value
    return merged


def check(settings: Settings) -> None:
    """Refuse, with the reason, a layout that would lose data or serialise nothing."""
    problems: List[str] = []
    for name, url in (
        ("DATABASE_URL", settings.database_url),
        ("TRACKER_STORE_URL", settings.tracker_store_url),
    ):
        if make_url(url).get_backend_name() != "postgresql":
            problems.append(f"{name} must be PostgreSQL (shared by every replica)")
    if not settings.lock_store_url:
        problems.append("LOCK_STORE_URL must be Redis: replicas share conversations")
    if len(settings.rasa_replica_ports) < 1 or len(settings.action_replica_ports) < 1:
        problems.append("RASA_REPLICA_PORTS and ACTION_REPLICA_PORTS need at least one port")
    if shutil.which("haproxy") is None:
        problems.append("haproxy is not installed (Debian: apt-get install haproxy)")
    if problems:
        raise ProductionConfigError("; ".join(problems))


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin_url = parsed.set(drivername="postgresql+psycopg2", database="postgres")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": parsed.database},
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        engine.dispose()


# Checked every second, out after 2 failed checks or at the first failed connection, back in
# after one good check.
SERVER_OPTIONS = "check inter 1s fall 2 rise 1 observe layer4 error-limit 1 on-error mark-down"


def haproxy_config(settings: Settings, status_token: str = "") -> str:
    """HAProxy in front of the Rasa replicas (RASA_PORT) and the action servers (ACTION_PORT).

    Rasa replicas are checked on `/status` (answers once the model is loaded) and action
    servers on `/health`. A request that a dead replica never answered is sent to another one
    (`retry-on`, `redispatch 1`): its connection was refused, or it was accepted and reset
    with no response (`empty-response`) — `kill -9` of a large process takes a second or so,
    during which the kernel still accepts connections on its port and then resets them.
    HAProxy can only resend a request it holds whole, hence `http-buffer-request` (without it,
    a POST whose body came in a second packet was already streamed, and the visitor's next
    message after a crash got HAProxy's 502). A server that fails a connection is taken out
    at once (`observe layer4`), not after two missed checks.
    `option forwardfor` passes the visitor's address on to the channels' rate limits.
    """
    host = settings.host
    local = local_host(host)
    status = "/status" + (f"?token={status_token}" if status_token else "")
    rasa_servers = "\n".join(
        f"    server rasa{i} {local}:{port} {SERVER_OPTIONS}"
        for i, port in enumerate(settings.rasa_replica_ports, start=1)
    )
    action_servers = "\n".join(
        f"    server actions{i} {local}:{port} {SERVER_OPTIONS}"
        for i, port in enumerate(settings.action_replica_ports, start=1)
    )
    return f"""# Written by `python -m bot serve --production`; edits are overwritten.
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout check 2s
    retries 3
    retry-on conn-failure empty-response junk-response
    option redispatch 1
    option http-buffer-request
    option http-server-close

frontend rasa
    bind {host}:{settings.rasa_port}
    option forwardfor
    default_backend rasa_replicas

backend rasa_replicas
    balance leastconn
    option httpchk GET {status}
    http-check expect status 200
{rasa_servers}

frontend actions
    bind {host}:{settings.action_port}
    default_backend action_servers

backend action_servers
    balance leastconn
    option httpchk GET /health
    http-check expect status 200
{action_servers}
"""


def process_specs(settings: Settings, haproxy_file: Path) -> List[ProcessSpec]:
    """HAProxy, the replicas, the web process and the workers, each with its role command."""
    python = sys.executable
    local = f"http://{local_host(settings.host)}"

    def role(name: str) -> List[str]:
        return [python, "-m", "bot", "serve", "--role", name, "--no-train"]

    action_lb = f"{local}:{settings.action_port}/webhook"
    # The replicas share this machine's cores: each gets its share for its math threads.
    rasa_processes = len(settings.rasa_replica_ports) * sanic_workers(os.environ)
    math_threads = math_thread_env(rasa_processes, os.environ)
    specs = [
        ProcessSpec(
            "haproxy",
            ["haproxy", "-W", "-db", "-f", str(haproxy_file)],
        )
    ]
    for index, port in enumerate(settings.action_replica_ports, start=1):
        specs.append(
            ProcessSpec(
                f"action server {index}",
                role("actions"),
                f"{local}:{port}/health",
                env={"ACTION_PORT": str(port)},
            )
        )
    for index, port in enumerate(settings.rasa_replica_ports, start=1):
        specs.append(
            ProcessSpec(
                f"rasa replica {index}",
                role("rasa"),
                f"{local}:{port}/",
                env={"RASA_PORT": str(port), "ACTION_ENDPOINT_URL": action_lb, **math_threads},
            )
        )
    specs.append(
        ProcessSpec("web", role("web"), f"{local}:{settings.web_port}/health"),
    )
    for index in range(1, settings.workers + 1):
        specs.append(ProcessSpec(f"worker {index}", role("worker")))
    return specs


def serve_production(
    settings: Settings, env: Mapping[str, str], run_dir: Path = PROJECT_ROOT / ".run"
) -> int:
    """Start the production layout and keep it running until Ctrl-C / SIGTERM."""
    haproxy_file = run_dir / f"haproxy-{settings.rasa_port}.cfg"
    haproxy_file.parent.mkdir(parents=True, exist_ok=True)
    from bot.runtime.tokens import action_server_token, rasa_auth_token

    # Made once here, so every replica reads the same secrets; HAProxy's check needs the token.
    action_server_token(settings)
    haproxy_file.write_text(haproxy_config(settings, rasa_auth_token(settings)))
    supervisor = Supervisor(
        process_specs(settings, haproxy_file),
        cwd=PROJECT_ROOT,
        env=dict(env, PYTHONPATH=str(PROJECT_ROOT), RASA_URL=settings.rasa_url),
        pid_dir=pid_dir(settings, run_dir),
    )
    print("Leadbot: starting the production layout (URLs follow once every server answers)")
    return run_until_stopped(
        supervisor,
        lambda seconds: (
            f"Leadbot (production layout) is ready after {seconds:.0f} s: "
            f"HAProxy on {settings.rasa_url} -> Rasa replicas on ports "
            f"{', '.join(map(str, settings.rasa_replica_ports))}; action servers on "
            f"{', '.join(map(str, settings.action_replica_ports))} behind :"
            f"{settings.action_port}; web on {settings.public_base_url}; "
            f"{settings.workers} workers. Ctrl-C stops everything."
        ),
    )


def environment() -> Dict[str, str]:
    """This process's environment with the machine's services filling the gaps."""
    return with_local_services(os.environ)
