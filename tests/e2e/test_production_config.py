"""The production configuration, for real: PostgreSQL for leads and Rasa's tracker store,
Redis lock store, two Rasa (Sanic) workers. Skipped, with the reason, where the machine lacks
PostgreSQL or Redis."""

from __future__ import annotations

import concurrent.futures
import socket
from pathlib import Path

import pytest

from tests.e2e.stack import Stack, start_stack, stop_stack

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


@pytest.fixture(scope="module")
def production_stack(tmp_path_factory: pytest.TempPathFactory):
    from tests.conftest import _postgres_reachable

    reason = _postgres_reachable() or _redis_unavailable()
    if reason:
        pytest.skip(reason)
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
    upgrade(leads_url)
    stack: Stack = start_stack(
        Path(tmp_path_factory.mktemp("production")),
        {
            "DATABASE_URL": leads_url,
            "TRACKER_STORE_URL": f"postgresql://postgres@127.0.0.1:5432/{names[1]}",
            "LOCK_STORE_URL": "redis://127.0.0.1:6379/0",
            "SANIC_WORKERS": "2",
        },
    )
    try:
        yield stack
    finally:
        if stack.process.poll() is None:
            stop_stack(stack)
        with admin.connect() as connection:
            for name in names:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


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


def test_parallel_visitors_on_postgres_redis_and_two_workers(production_stack: Stack) -> None:
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
    chat = production_stack.conversation()
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    chat.reply("Erin Example")
    assert "deleted everything" in chat.reply("forget me")
    events = production_stack.tracker_events(chat.sender)
    assert not any("Erin" in str(event) for event in events)
    assert chat.lead() is None
