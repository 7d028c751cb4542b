"""The real stack for end-to-end tests: `python -m bot serve` (Rasa server, action server and
web process) on free ports, with its own SQLite databases in a temporary folder, talked to over
HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence

import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 240  # seconds; Rasa loads in ~30 s here, CI machines may be slower


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    env: Dict[str, str]
    rasa_url: str
    action_url: str
    web_url: str = ""
    mail: Any = None  # tests/e2e/mail.MailSink, when the fixture started one
    crm: Any = None  # tests/crm/receiver.Receiver (signed CRM events), when started
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    token: str = ""  # the Rasa HTTP API token (`python -m bot token`)

    def conversation(self, metadata: Dict[str, Any] | None = None) -> Conversation:
        """A REST-channel client: no visitor session (can't read or erase stored data)."""
        return Conversation(self, f"e2e-{uuid.uuid4().hex}", metadata or {})

    def new_session(self) -> Dict[str, str]:
        """A visitor session, as the widget gets one: {"sender", "session"}."""
        response = requests.post(f"{self.rasa_url}/webhooks/widget/session", timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    def visitor(self, metadata: Dict[str, Any] | None = None) -> Conversation:
        """A widget visitor with a server-minted session, talking over the widget channel."""
        minted = self.new_session()
        return Conversation(self, minted["sender"], metadata or {}, token=minted["session"])

    def export(self) -> List[Dict[str, Any]]:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "leads", "export"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(result.stdout)

    def lead(self, conversation_id: str) -> Dict[str, Any] | None:
        return next(
            (row for row in self.export() if row["conversation_id"] == conversation_id), None
        )

    def tracker_events(self, conversation_id: str) -> List[Dict[str, Any]]:
        response = requests.get(
            f"{self.rasa_url}/conversations/{conversation_id}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["events"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


@dataclass
class Conversation:
    stack: Stack
    sender: str
    metadata: Dict[str, Any]
    transcript: List[str] = field(default_factory=list)
    buttons: List[Dict[str, str]] = field(default_factory=list)  # of the latest reply
    token: str | None = None  # a visitor session: the widget channel, with its token

    def post(self, text: str) -> requests.Response:
        body: Dict[str, Any] = {"sender": self.sender, "message": text, "metadata": self.metadata}
        channel = "rest"
        if self.token is not None:
            body["session"], channel = self.token, "widget"
        return requests.post(
            f"{self.stack.rasa_url}/webhooks/{channel}/webhook", json=body, timeout=60
        )

    def say(self, text: str) -> List[Dict[str, Any]]:
        response = self.post(text)
        response.raise_for_status()
        messages = response.json()
        self.transcript.append(f"> {text}")
        self.transcript.extend(f"< {m.get('text')}" for m in messages)
        self.buttons = [button for m in messages for button in m.get("buttons") or []]
        return messages

    def click(self, title_contains: str = "", index: int = 0, payload_prefix: str = "") -> str:
        """Click a button of the latest reply, as the widget would: send its payload."""
        matching = [
            b
            for b in self.buttons
            if title_contains in b["title"] and b["payload"].startswith(payload_prefix)
        ]
        assert matching, f"no button with {title_contains!r} in {self.buttons}"
        return self.reply(matching[index]["payload"])

    def reply(self, text: str) -> str:
        """Everything the bot answered, as one string (for assertions on wording)."""
        return "\n".join(m.get("text") or "" for m in self.say(text))

    def lead(self) -> Dict[str, Any] | None:
        return self.stack.lead(self.sender)


def local_smtp(port: int) -> Dict[str, str]:
    """Settings for a worker that delivers, every half second, to an SMTP server on this
    machine's `port` (without STARTTLS)."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
        "WORKER_POLL_SECONDS": "0.5",
    }


def set_rep_password(env: Dict[str, str], email: str, password: str) -> None:
    """Give the rep `email` an inbox password, as an operator does (`bot reps set-password`)."""
    subprocess.run(
        [sys.executable, "-m", "bot", "reps", "set-password", email, "--password-stdin"],
        cwd=ROOT,
        env=env,
        input=password + "\n",
        text=True,
        capture_output=True,
        check=True,
    )


def wait_until_up(stack: Stack) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"the stack exited early:\n{stack.log()[-5000:]}")
        try:
            status = requests.get(
                f"{stack.rasa_url}/status", params={"token": stack.token}, timeout=2
            ).json()
            health = requests.get(f"{stack.action_url}/health", timeout=2).json()
            web = requests.get(f"{stack.web_url}/health", timeout=2).json() if stack.web_url else {}
            web_ok = not stack.web_url or web.get("status") == "ok"
            if status.get("model_file") and health.get("status") == "ok" and web_ok:
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1)
    raise RuntimeError(f"the stack did not start in {START_TIMEOUT}s:\n{stack.log()[-5000:]}")


def rasa_token(env: Dict[str, str]) -> str:
    """The Rasa API token, as an operator's tool gets it: `python -m bot token`."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "token"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def start_stack(
    tmp: Path, extra_env: Dict[str, str] | None = None, args: Sequence[str] = ()
) -> Stack:
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'leadbot.db'}",
        TRACKER_STORE_URL=f"sqlite:///{tmp / 'tracker.db'}",
        RASA_PORT=str(rasa_port),
        ACTION_PORT=str(action_port),
        WEB_PORT=str(web_port),
        PUBLIC_BASE_URL="",
        PRIVACY_POLICY_URL="",
        ALLOWED_ORIGINS="",
        ACTION_ENDPOINT_URL="",
        LOCK_STORE_URL="",
        RASA_URL="",
        OUTBOX_MAIL_DIR=str(tmp / "outbox-mail"),
        SECRET_KEY_FILE=str(tmp / "secret_key"),
        RASA_AUTH_TOKEN_FILE=str(tmp / "rasa_auth_token"),
        ACTION_SERVER_TOKEN_FILE=str(tmp / "action_server_token"),
        # Every test visitor comes from 127.0.0.1: the per-address limits (tested on their own
        # in tests/e2e/test_edge_limits.py) would otherwise stop the suite's conversations.
        ADDRESS_RATE_LIMIT="100000",
        NEW_CONVERSATIONS_PER_HOUR="100000",
        REDIS_URL="",  # the production layout fills in this machine's Redis
        REDIS_KEY_PREFIX=f"leadbot-test-{uuid.uuid4().hex[:12]}",
    )
    env.update(extra_env or {})
    stack = Stack(
        env,
        f"http://127.0.0.1:{rasa_port}",
        f"http://127.0.0.1:{action_port}",
        f"http://127.0.0.1:{web_port}",
    )
    stack.log_path = tmp / "stack.log"
    stack.token = rasa_token(env)
    stack.process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--no-train", *args],
        cwd=ROOT,
        env=env,
        stdout=stack.log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_until_up(stack)
    return stack


def stop_stack(stack: Stack) -> int:
    """Ctrl-C, as an operator would; returns the exit code."""
    stack.process.send_signal(signal.SIGINT)
    try:
        return stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise
