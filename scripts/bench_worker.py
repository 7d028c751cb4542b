"""`make bench-worker`: outbox deliveries per second, to a real local SMTP server.

Enqueues N rep-notification-sized emails (with an .ics attachment) in one transaction, then
lets one worker deliver them all (`Worker.run_once`), on SQLite and, when it is reachable, on
PostgreSQL. Results go to bench/worker_results.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config.settings import Settings  # noqa: E402
from bot.outbox.queue import enqueue  # noqa: E402
from bot.outbox.worker import build_worker  # noqa: E402
from bot.storage.engine import (  # noqa: E402
    drop_databases,
    make_engine,
    make_session_factory,
    unit_of_work,
)
from bot.storage.migrate import upgrade  # noqa: E402
from tests.conftest import POSTGRES_ADMIN_URL, _postgres_reachable  # noqa: E402
from tests.e2e.mail import MailSink  # noqa: E402
from tests.e2e.stack import free_port  # noqa: E402

INVITE = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


def run(database_url: str, count: int, mail: MailSink) -> dict:
    upgrade(database_url)
    sessions = make_session_factory(make_engine(database_url))
    with unit_of_work(sessions) as session:
        for index in range(count):
            enqueue(
                session,
                "email",
                "booking",
                {
                    "to": [f"rep{index % 3}@example.com"],
                    "subject": f"New meeting #{index}",
                    "text": "Lead answers and score breakdown… " * 20,
                    "attachments": [
                        {
                            "filename": "invite.ics",
                            "content_type": "text/calendar; method=REQUEST",
                            "content": INVITE,
                        }
                    ],
                },
            )
    before = len(mail.messages)
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail.port),
            "SMTP_STARTTLS": "false",
        }
    )
    worker = build_worker(settings)
    started = time.perf_counter()
    delivered = 0
    while delivered < count:
        report = worker.run_once()
        if report.delivered == 0 and report.retrying == 0:
            break
        delivered += report.delivered
    elapsed = time.perf_counter() - started
    received = len(mail.messages) - before
    return {
        "emails": count,
        "delivered": delivered,
        "received_by_smtp_server": received,
        "seconds": round(elapsed, 2),
        "deliveries_per_second": round(delivered / elapsed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "bench" / "worker_results.json"))
    args = parser.parse_args()
    mail = MailSink(free_port()).start()
    results: dict = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python scripts/bench_worker.py " + " ".join(sys.argv[1:]),
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results["sqlite"] = run(f"sqlite:///{tmp}/bench.db", args.count, mail)
        reason = _postgres_reachable()
        if reason:
            results["postgresql"] = f"skipped: {reason}"
        else:
            from sqlalchemy import create_engine, text

            name = f"leadbot_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
                results["postgresql"] = run(url, args.count, mail)
            finally:
                admin.dispose()
                drop_databases(POSTGRES_ADMIN_URL, [name])
    finally:
        mail.stop()
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
