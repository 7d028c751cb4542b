"""The production configuration, for real (`python -m bot serve --production`, what
`make run-prod` starts): PostgreSQL for leads and Rasa's tracker store, Redis lock store,
RabbitMQ event broker, two Rasa replicas and two action servers behind HAProxy, two workers,
the web process reaching Rasa through RASA_URL. Every conversation here goes through HAProxy.
Skipped, with the reason, where the machine lacks PostgreSQL, Redis, RabbitMQ or HAProxy."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List

import pytest

from tests.e2e import prestart
from tests.e2e.stack import ROOT, Stack, free_port, start_stack, stop_stack

pytestmark = pytest.mark.e2e


def _redis_unavailable() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return ""
            return "Redis on 127.0.0.1:6379 did not answer PING"
    except OSError as error:
        return f"Redis not reachable on 127.0.0.1:6379 ({error})"


@dataclass
class Production:
    queue: str
    names: List[str]  # the PostgreSQL databases (leads, tracker store), dropped after
    admin: Any
    stack: Stack | None = None


def _stop(production: Production) -> None:
    from bot.storage.engine import drop_databases
    from tests.conftest import POSTGRES_ADMIN_URL

    stack = production.stack
    if stack is not None and stack.process.poll() is None:
        stop_stack(stack)
    asyncio.run(_queue_messages(production.queue, delete=True))
    production.admin.dispose()
    drop_databases(POSTGRES_ADMIN_URL, production.names)


@prestart.register("production_stack", _stop, ahead=2)
def _prepare(tmp_path_factory: pytest.TempPathFactory):
    from tests.conftest import _postgres_reachable

    reason = _postgres_reachable() or _redis_unavailable() or _rabbitmq_unavailable()
    if not reason and shutil.which("haproxy") is None:
        reason = "haproxy is not installed (.ci/run installs Debian's package)"
    if reason:
        pytest.skip(reason)
    folder = Path(tmp_path_factory.mktemp("production"))

    def start() -> Production:
        import uuid

        from sqlalchemy import create_engine, text

        from bot.storage.migrate import upgrade
        from tests.conftest import POSTGRES_ADMIN_URL

        names = [f"leadbot_e2e_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("leads", "tracker")]
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        leads_url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{names[0]}"
        production = Production(f"leadbot_e2e_{uuid.uuid4().hex[:8]}", names, admin)
        try:
            upgrade(leads_url)
            production.stack = start_stack(
                folder,
                {
                    "DATABASE_URL": leads_url,
                    "TRACKER_STORE_URL": f"postgresql://postgres@127.0.0.1:5432/{names[1]}",
                    "LOCK_STORE_URL": "redis://127.0.0.1:6379/0",
                    "EVENT_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672",
                    "EVENT_BROKER_QUEUE": production.queue,
                    "RASA_REPLICA_PORTS": f"{free_port()},{free_port()}",
                    "ACTION_REPLICA_PORTS": f"{free_port()},{free_port()}",
                    "WORKERS": "2",
                },
                args=["--production"],
            )
            production.stack.env["EVENT_BROKER_QUEUE"] = production.queue
            wait_for_every_replica(production.stack)
        except BaseException:
            _stop(production)
            raise
        return production

    return start


@pytest.fixture(scope="module")
def production_stack(tmp_path_factory: pytest.TempPathFactory):
    """`bot serve --production`, started ahead (tests/e2e/prestart.py)."""
    production = prestart.take("production_stack", tmp_path_factory)
    try:
        yield production.stack
    finally:
        prestart.stop_later(_stop, production)  # while the next module runs


def wait_for_every_replica(stack: Stack, timeout_s: float = 300) -> None:
    """Every Rasa replica and action server answers on its own port (start_stack only waits
    for HAProxy to answer, which one replica is enough for: on a busy machine the second one
    may still be loading its model, and a test that kills the first would find none)."""
    import requests

    urls = [
        f"http://127.0.0.1:{port}/status?token={stack.token}"
        for port in stack.env["RASA_REPLICA_PORTS"].split(",")
    ] + [f"http://127.0.0.1:{port}/health" for port in stack.env["ACTION_REPLICA_PORTS"].split(",")]
    deadline = time.monotonic() + timeout_s
    for url in urls:
        while True:
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"{url} never answered\n{stack.log()[-3000:]}"
            time.sleep(1)
    time.sleep(2)  # and HAProxy's checks (every second) have seen them


def _rabbitmq_unavailable() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return ""
    except OSError as error:
        return f"RabbitMQ not reachable on 127.0.0.1:5672 ({error})"


async def _queue_messages(queue: str, delete: bool = False) -> list:
    """Every message waiting in `queue` (consumed), as parsed JSON."""
    import aio_pika

    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True, passive=False)
        messages = []
        while True:
            message = await declared.get(no_ack=True, fail=False)
            if message is None:
                break
            messages.append(json.loads(message.body))
        if delete:
            await declared.delete(if_unused=False, if_empty=False)
        return messages


def pids(stack: Stack) -> dict:
    folder = ROOT / ".run" / f"pids-{stack.env['RASA_PORT']}"
    return {path.stem: int(path.read_text()) for path in folder.glob("*.pid")}


def qualify(stack: Stack, index: int) -> str:
    chat = stack.conversation({"page_url": f"https://example.com/p{index}"})
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    chat.reply(f"Visitor Number{index}")
    chat.reply(f"visitor{index}@corp{index}.com")
    chat.reply("Director of IT")
    chat.reply(f"Corp {index}")
    chat.reply("about 200 people")
    chat.reply("50k a year")
    assert "would love to talk" in chat.reply("in 3 months")
    # Six visitors pick the first free time at once: the database lets one have each slot,
    # the others are told it was taken and pick again from fresh times.
    for _ in range(6):
        reply = chat.click(payload_prefix="/choose_meeting")
        if "You're booked" in reply:
            return chat.sender
        assert "someone just took that time" in reply
    raise AssertionError(chat.transcript)


def test_parallel_visitors_through_haproxy_on_two_replicas(production_stack: Stack) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        senders = list(pool.map(lambda i: qualify(production_stack, i), range(6)))
    leads = {row["conversation_id"]: row for row in production_stack.export()}
    for index, sender in enumerate(senders):
        lead = leads[sender]
        assert lead["email"] == f"visitor{index}@corp{index}.com"
        assert (lead["company_size"], lead["budget_usd"], lead["timeline_months"]) == (
            200,
            50000,
            3,
        )
        assert lead["seniority"] == "director" and lead["status"] == "complete"
    booked = [(lead["rep_email"], lead["meeting_start"]) for lead in leads.values()]
    assert len(booked) == len(set(booked)) == 6  # nobody double-booked


def test_erasure_on_the_postgres_tracker_store(production_stack: Stack) -> None:
    chat = production_stack.visitor()
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    chat.reply("Erin Example")
    assert "deleted everything" in chat.reply("forget me")
    events = production_stack.tracker_events(chat.sender)
    assert not any("Erin" in str(event) for event in events)
    assert chat.lead() is None


def test_conversation_events_reach_the_rabbitmq_event_broker(production_stack: Stack) -> None:
    chat = production_stack.conversation()
    chat.reply("hello")
    deadline = time.monotonic() + 20
    seen: list = []
    while time.monotonic() < deadline:
        seen += asyncio.run(_queue_messages(production_stack.env["EVENT_BROKER_QUEUE"]))
        if any(event.get("sender_id") == chat.sender for event in seen):
            break
        time.sleep(0.5)
    mine = [event for event in seen if event.get("sender_id") == chat.sender]
    assert {"user", "bot"} <= {event["event"] for event in mine}


def test_kill_9_of_a_replica_and_an_action_server_mid_conversation(
    production_stack: Stack,
) -> None:
    """HAProxy sends the next message to the other replica; the launcher restarts both."""
    wait_for_every_replica(production_stack)
    chat = production_stack.conversation()
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    before = pids(production_stack)
    os.kill(before["rasa-replica-1"], signal.SIGKILL)
    os.kill(before["action-server-1"], signal.SIGKILL)
    # Never silence, never an error page: the other replica and action server answer.
    assert "email" in chat.reply("Rita Replica")
    assert "role" in chat.reply("rita@replica.dev")
    assert "company" in chat.reply("Head of Operations").lower()
    deadline = time.monotonic() + 180
    while True:
        now = pids(production_stack)
        restarted = {
            name
            for name in ("rasa-replica-1", "action-server-1")
            if now.get(name) not in (None, before[name])
        }
        if len(restarted) == 2:
            break
        assert time.monotonic() < deadline, production_stack.log()[-3000:]
        time.sleep(1)
    assert now["rasa-replica-2"] == before["rasa-replica-2"]
    lead = chat.lead()
    assert (lead["name"], lead["email"]) == ("Rita Replica", "rita@replica.dev")
