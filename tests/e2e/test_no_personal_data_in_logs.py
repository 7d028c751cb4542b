"""No personal data in any log: a stack at LOG_LEVEL=DEBUG is given a unique email and unique
sentences, then made to fail in every process — the leads database gone under the action
server and the web process, an action failing on it, the channels refusing malformed
requests that carry the email, the worker delivering to an SMTP port nobody listens on — and
every log the stack wrote is searched for them."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e import prestart
from tests.e2e.stack import free_port, local_smtp, start_stack, stop_stack

pytestmark = pytest.mark.e2e


def _stop(stack) -> None:
    if stack.process.poll() is None:
        stop_stack(stack)


@prestart.register("debug_stack", _stop, ahead=3)
def _prepare(tmp_path_factory: pytest.TempPathFactory):
    tmp = Path(tmp_path_factory.mktemp("logs"))
    dead_smtp = free_port()  # nothing listens here: every delivery fails

    def start():
        stack = start_stack(
            tmp,
            {
                "LOG_LEVEL": "DEBUG",
                **local_smtp(dead_smtp),
                "INBOX_TOKEN": "logs-inbox-token",
            },
        )
        stack.env["TMP_DIR"] = str(tmp)
        return stack

    return start


@pytest.fixture(scope="module")
def debug_stack(tmp_path_factory: pytest.TempPathFactory):
    """Its own stack, started ahead (tests/e2e/prestart.py)."""
    stack = prestart.take("debug_stack", tmp_path_factory)
    try:
        yield stack
    finally:
        prestart.stop_later(_stop, stack)  # the test stops it; on a failure, in the background


def every_log(folder: Path) -> str:
    """Every text the stack wrote that is not a database or a mail: its logs."""
    texts = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.endswith((".db", ".db-wal", ".db-shm", ".eml")):
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def test_a_planted_email_and_messages_never_reach_a_log(debug_stack) -> None:
    stack = debug_stack
    tmp = Path(stack.env["TMP_DIR"])
    mark = uuid.uuid4().hex[:10].translate(str.maketrans("0123456789", "ghijklmnop"))
    email = f"planted.{mark}@example.org"
    name = f"Zelda {mark.capitalize()}"
    company = f"Quokka{mark}"
    secrets = [email, name, company, f"my email is {email}", f"we are {company} ltd"]

    # 1. A full conversation: consent, the email, a booking (the worker then fails to tell the
    #    rep: the SMTP port is dead).
    chat = stack.conversation({"page_url": f"https://example.com/?ref={email}"})
    chat.reply("I'd like a demo")
    chat.reply("yes")
    chat.reply("no")
    chat.reply(name)
    chat.reply(email)
    chat.reply("Director of IT")
    chat.reply(f"we are {company} ltd")
    chat.reply("about 500 people")
    chat.reply("100k a year")
    offer = chat.reply("this quarter")
    if "would love to talk" in offer:
        chat.click(payload_prefix="/choose_meeting")
    lead = chat.lead()
    assert lead and lead["email"] == email, "\n".join(chat.transcript)
    time.sleep(3)  # the worker's first delivery attempts fail against the dead port

    # 2. The channels refuse malformed requests that carry the email.
    for url in (
        f"{stack.rasa_url}/webhooks/rest/webhook",
        f"{stack.web_url}/webhooks/widget/webhook",
    ):
        for body in (
            {"sender": chat.sender, "message": email, "metadata": email},
            {"sender": email + " x", "message": f"my email is {email}"},
            {"sender": chat.sender, "message": [email]},
        ):
            assert requests.post(url, json=body, timeout=30).status_code == 400
    # A message too long to be a chat message, full of the email, is answered, not logged.
    chat.reply(f"my email is {email} " * 150)

    # 3. The leads database disappears under the action server, the web process and the
    #    worker: the action fails, an export fails, the visitor is told to try again.
    database = tmp / "leadbot.db"
    moved = tmp / "leadbot.db.away"
    os.rename(database, moved)
    database.mkdir()  # "unable to open database file" for every new connection
    try:
        other = stack.conversation({"page_url": "https://example.com/pricing"})
        other.reply("I'd like a demo")
        other.reply("yes")
        other.reply("no")
        other.reply(name)
        other.reply(f"my email is {email}")
        chat.reply(f"actually it's {email}")
        chat.reply("what do you know about me?")
        export = requests.get(
            f"{stack.web_url}/inbox/leads.json",
            headers={"Authorization": "Bearer logs-inbox-token"},
            timeout=30,
        )
        assert export.status_code >= 400
        time.sleep(2)
    finally:
        shutil.rmtree(database)
        os.rename(moved, database)

    stop_stack(stack)
    logs = every_log(tmp)
    assert "OperationalError" in logs  # and the failures above really happened
    leaks = [secret for secret in secrets if secret.lower() in logs.lower()]
    leaks += [part for part in (mark,) if part in logs]
    context = []
    for leak in leaks:
        at = logs.lower().find(leak.lower())
        context.append(logs[max(0, at - 300) : at + 100])
    assert not leaks, "\n----\n".join(context)
