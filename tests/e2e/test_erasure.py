""" "Forget me" on the real stack: a visitor books a meeting through the widget channel, the rep
is notified over SMTP, then the visitor erases their data. Afterwards the visitor's email is
nowhere: not in any row of the leads database or the tracker store, not in any byte of the
stack's data folder (databases, write-ahead logs, mail, logs), and no mail the rep receives
after the erasure names the person; the rep gets a METHOD:CANCEL with the meeting's time."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.storage.engine import make_engine
from tests.e2e.stack import Conversation, Stack

pytestmark = pytest.mark.e2e


def book(stack: Stack, name: str, email: str) -> Conversation:
    chat = stack.visitor({"page_url": "https://example.com/pricing", "timezone": "Europe/Berlin"})
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("yes please")  # follow-up emails too: a nurture enrollment exists
    for answer in (name, email, "VP of Sales", "Initech", "about 300 people", "80k", "now"):
        chat.reply(answer)
    assert any(b["payload"].startswith("/choose_meeting") for b in chat.buttons), chat.transcript
    assert "You're booked" in chat.click(payload_prefix="/choose_meeting")
    return chat


def calendar_of(message, filename: str) -> str:  # type: ignore[no-untyped-def]
    for part in message.iter_attachments():
        if part.get_filename() == filename:
            content = part.get_content()
            return content.decode() if isinstance(content, bytes) else content
    return ""


def rows_mentioning(url: str, needle: str) -> list:
    engine = make_engine(url)
    found = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                if needle in str(row).lower():
                    found.append(table)
    engine.dispose()
    return found


def files_mentioning(folder: Path, needle: str) -> list:
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and needle.encode() in path.read_bytes().lower()
    ]


def test_forget_me_erases_everything_and_cancels_the_meeting(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:8]
    name, email = f"Erin Zq{tag}", f"erin.{tag}@initech.com"
    chat = book(stack, name, email)
    lead = chat.lead()
    assert lead["email"] == email and lead["outcome"] == "meeting_booked"
    when = lead["meeting_start"]  # e.g. 2026-12-03T09:00:00Z
    notification = stack.mail.wait_for(lambda m: name in str(m["Subject"]))
    assert email in notification.get_body(preferencelist=("plain",)).get_content()
    received_before = len(stack.mail.messages)

    reply = chat.say("forget me")
    texts = " ".join(m.get("text") or "" for m in reply)
    assert "deleted everything" in texts
    assert {"leadbot": "erased"} in [m.get("custom") for m in reply]  # the widget clears itself

    start = when.replace("-", "").replace(":", "")
    cancel = stack.mail.wait_for(lambda m: f"DTSTART:{start}" in calendar_of(m, "cancel.ics"))
    assert cancel["To"] == lead["rep_email"] and "cancelled" in cancel["Subject"].lower()
    assert "METHOD:CANCEL" in calendar_of(cancel, "cancel.ics")
    time.sleep(2)  # anything else the worker would still send
    for message in stack.mail.messages[received_before:]:
        raw = message.as_string().lower()
        assert tag not in raw and "initech" not in raw, message["Subject"]

    # Nothing left: rows, bytes in the data folder (SQLite files and WAL, mail, logs).
    assert chat.lead() is None
    for url in (stack.env["DATABASE_URL"], stack.env["TRACKER_STORE_URL"]):
        assert rows_mentioning(url, tag) == [], url
    data_folder = Path(stack.env["DATABASE_URL"].removeprefix("sqlite:///")).parent
    assert files_mentioning(data_folder, tag) == []
    assert not any(tag in str(e) for e in stack.tracker_events(chat.sender))
    # The conversation can go on (as a new one), and nothing is known.
    assert "haven't stored anything" in chat.reply("what do you know about me?")
