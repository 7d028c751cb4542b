"""`make drills`: the production layout under load and under faults, with a pass/fail line each.

Starts the production layout (`python -m bot serve --production`: HAProxy, two Rasa replicas,
two action servers, web, two workers, RabbitMQ event broker) against a *private* PostgreSQL
(initdb + pg_ctl on a free port, so restarting it disturbs nobody) and a private Redis
(redis-server on a free port), a real SMTP server (aiosmtpd) and a webhook endpoint, then:

(a) load: visitors chatting at once through HAProxy (full qualifications that book a meeting,
    questions, corrections, declines, erasures), nothing broken: 0 errors, 0 silent replies;
    stored complete leads == consenting completed conversations; no double booking;
(b) faults, each mid-run under the same load: kill -9 of one Rasa replica, kill -9 of one
    action server, PostgreSQL restarted: every message gets an answer or an apology and the
    visitor's retry is answered (never silence); no lead, consent or booking lost; nobody is
    told "booked" unless the meeting is committed;
(c) SMTP and the webhook endpoint down (from the start of the fault run), then back: every
    notification (rep email with invite, rep webhook, CRM webhook) arrives exactly once;
(d) Redis (the lock store) restarted mid-run: conversations continue.

Visitors pause ~5 s between messages (typing; 0.5-1.5x at random), as in `make bench`'s capacity
figure. Full form (default): 100 visitors, 10 minutes of load, then the fault run with a 10-minute
SMTP/webhook outage. `--short`: ~3 minutes in all (tests/e2e/test_drills.py runs it in
`make test`). Writes reports/drills.md (or --out) and prints one `PASS`/`FAIL` line per drill.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Sequence

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench import delete_queue  # noqa: E402
from tests.e2e.mail import MailSink  # noqa: E402
from tests.e2e.postgres import PrivatePostgres  # noqa: E402
from tests.e2e.stack import Stack, free_port, start_stack, stop_stack  # noqa: E402

BOOKED = "You're booked"
# A visitor types for ~5 s between messages (0.5-1.5x at random): the same pause as the
# capacity figure of `make bench`, so 100 visitors here are 100 people chatting at once.
THINK_SECONDS = 5.0
# Slots enough for every booking of a full run (~1,000 in 22 minutes, far more than a real
# team books): the drill's reps look this many days ahead instead of config/reps.yml's 14.
DRILL_HORIZON_DAYS = {"short": 30, "full": 150}
OFFERED = "would love to talk"
TAKEN = "someone just took that time"


def nurture_question() -> str:
    """The start of the question asked right after consent is recorded (the next form step)."""
    responses = yaml.safe_load((ROOT / "domain.yml").read_text()).get("responses", {})
    variants = responses.get("utter_ask_nurture_consent") or [{}]
    return " ".join(str(variants[0].get("text", "")).split())[:30]


def apology_texts() -> List[str]:
    """The designers' wording for "something is down" / "something went wrong"."""
    responses = yaml.safe_load((ROOT / "domain.yml").read_text()).get("responses", {})
    texts = []
    for name in ("utter_temporarily_unavailable", "utter_something_went_wrong"):
        for variant in responses.get(name) or []:
            texts.append(" ".join(str(variant.get("text", "")).split())[:40])
    return [t for t in texts if t]


# -- private services ------------------------------------------------------------------------
class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


class WebhookSink:
    """An HTTP endpoint recording every JSON body POSTed to it; can be taken down and back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: List[Dict[str, Any]] = []
        self._server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> WebhookSink:
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    sink.received.append({"path": self.path, "body": json.loads(body)})
                except ValueError:
                    sink.received.append({"path": self.path, "body": None})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def drill_reps_file(folder: Path, horizon_days: int) -> Path:
    """config/reps.yml with a booking horizon long enough for the drill's volume."""
    reps = yaml.safe_load((ROOT / "config" / "reps.yml").read_text())
    reps.setdefault("defaults", {})["horizon_days"] = horizon_days
    for rep in reps.get("reps", []):
        rep.pop("horizon_days", None)
    path = folder / "reps.yml"
    path.write_text(yaml.safe_dump(reps, sort_keys=False))
    return path


# -- visitors --------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one conversation did and was told."""

    sender: str
    scenario: str
    phase: str
    consent_acknowledged: bool = False  # said yes to consent and got a normal answer
    completed: bool = False  # consenting and told it's booked
    told_booked: bool = False
    erased: bool = False  # told "deleted everything"
    erase_unanswered: bool = False  # "forget me" got neither the deletion nor "try again"
    expected_size: int | None = None
    transcript: List[str] = field(default_factory=list)  # for the report, when a check fails
    token: str | None = None  # a widget visitor session: erasing needs one


@dataclass
class Tally:
    messages: int = 0
    errors: int = 0  # HTTP error, refused connection, timeout (before retrying)
    silent: int = 0  # a 200 with no message at all
    apologies: int = 0
    unanswered: int = 0  # still no answer after the retries
    answered_after: Dict[str, int] = field(default_factory=Counter)
    outcomes: List[Outcome] = field(default_factory=list)


class Visitor:
    def __init__(
        self, session: aiohttp.ClientSession, url: str, tally: Tally, apologies: Sequence[str],
        phase: str, think: float, marks: Dict[str, float],
    ) -> None:  # fmt: skip
        self.session, self.url, self.tally = session, url, tally
        self.apologies, self.phase, self.think, self.marks = apologies, phase, think, marks

    async def say(self, outcome: Outcome, text: str) -> tuple[str, List[Dict[str, Any]]]:
        """Send `text` as the widget would, retrying (like its retry button) after an error
        or an apology; returns the reply's text and buttons."""
        await asyncio.sleep(self.think * random.uniform(0.5, 1.5))
        # As the widget: a message is resent with its id when no answer came (the server
        # answers an id once, so a message processed before the connection broke isn't
        # processed again); after an apology the visitor says it again, a new message.
        message_id = uuid.uuid4().hex
        for _attempt in range(6):
            self.tally.messages += 1
            try:
                body: Dict[str, Any] = {
                    "sender": outcome.sender, "message": text, "metadata": {},
                    "message_id": message_id,
                }  # fmt: skip
                url = self.url
                if outcome.token:  # the widget channel, within the visitor's session
                    body["session"], url = outcome.token, self.url.replace("/rest/", "/widget/")
                async with self.session.post(url, json=body) as response:
                    if response.status != 200:
                        self.tally.errors += 1
                        await asyncio.sleep(1.0)
                        continue
                    messages = await response.json()
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                self.tally.errors += 1
                await asyncio.sleep(1.0)
                continue
            if not messages:
                self.tally.silent += 1
                await asyncio.sleep(1.0)
                continue
            reply = "\n".join(m.get("text") or "" for m in messages)
            flat = " ".join(reply.split())
            outcome.transcript.append(f"> {text}  < {flat[:90]}")
            if any(apology in flat for apology in self.apologies):
                self.tally.apologies += 1
                await asyncio.sleep(2.0)
                message_id = uuid.uuid4().hex
                continue  # the visitor says it again
            now = time.monotonic()
            for mark, at in self.marks.items():
                if now > at:
                    self.tally.answered_after[mark] += 1
            buttons = [b for m in messages for b in m.get("buttons") or []]
            return reply, buttons
        self.tally.unanswered += 1
        return "", []

    async def qualify(self, outcome: Outcome, index: int, correct: bool = False) -> None:
        await self.say(outcome, "I'd like a demo")
        reply, _ = await self.say(outcome, "yes")
        # Consent is recorded when the form moves on to the next question (a fallback or a
        # re-ask means it wasn't, and nothing may be stored).
        outcome.consent_acknowledged = NURTURE_QUESTION in " ".join(reply.split())
        await self.say(outcome, "no")
        for text in (
            f"Drill Visitor{index}",
            f"drill{index}@corp{index}.example.com",
            "Director of IT",
            f"Corp {index}",
            "about 200 people",
        ):
            await self.say(outcome, text)
        outcome.expected_size = 200
        if correct:
            await self.say(outcome, "actually we're 500 people")
            outcome.expected_size = 500
        await self.say(outcome, "50k a year")
        reply, buttons = await self.say(outcome, "in 3 months")
        for _ in range(8):
            choices = [b for b in buttons if b.get("payload", "").startswith("/choose_meeting")]
            if not choices:
                return
            reply, buttons = await self.say(outcome, choices[0]["payload"])
            if BOOKED in reply:
                outcome.told_booked = outcome.completed = True
                return

    async def start_session(self, outcome: Outcome) -> bool:
        """A visitor session, as the widget starts one (bot/leads/sessions.py); False when
        none could be had after the retries (the widget would show "can't reach the server")."""
        url = self.url.replace("/rest/webhook", "/widget/session")
        for _attempt in range(6):
            try:
                async with self.session.post(url) as response:
                    if response.status == 201:
                        minted = await response.json()
                        outcome.sender, outcome.token = minted["sender"], minted["session"]
                        return True
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                pass
            self.tally.errors += 1
            await asyncio.sleep(1.0)
        self.tally.unanswered += 1
        outcome.transcript.append("(no visitor session after 6 tries)")
        return False

    async def run(self, scenario: str, index: int) -> Outcome:
        outcome = Outcome(f"drill-{uuid.uuid4().hex}", scenario, self.phase)
        self.tally.outcomes.append(outcome)
        if scenario == "qualify":
            await self.qualify(outcome, index)
        elif scenario == "correct":
            await self.qualify(outcome, index, correct=True)
        elif scenario == "question":
            for text in ("hi", "what does it cost?", "are you a bot?", "thanks, bye"):
                await self.say(outcome, text)
        elif scenario == "decline":
            await self.say(outcome, "I'd like a demo")
            await self.say(outcome, "no")
            await self.say(outcome, "what does it cost?")
        elif scenario == "erase":
            if not await self.start_session(outcome):
                return outcome
            await self.say(outcome, "I'd like a demo")
            reply, _ = await self.say(outcome, "yes")
            outcome.consent_acknowledged = NURTURE_QUESTION in " ".join(reply.split())
            await self.say(outcome, "no")
            await self.say(outcome, f"Erin Erase{index}")
            # As a visitor would: when the bot says it couldn't delete yet (a fault mid-way,
            # nothing deleted), ask again in a moment.
            for _try in range(4):
                reply, _ = await self.say(outcome, "forget me")
                flat = " ".join(reply.split())
                if "deleted everything" in flat:
                    outcome.erased = True
                    break
                if "couldn't delete" not in flat:
                    outcome.erase_unanswered = True
                    break
                await asyncio.sleep(2.0)
        return outcome


NURTURE_QUESTION = nurture_question()
SCENARIOS = ["qualify"] * 4 + ["correct", "question", "question", "decline", "erase"]


async def load(
    url: str, visitors: int, seconds: float, tally: Tally, phase: str, think: float,
    marks: Dict[str, float],
) -> None:  # fmt: skip
    """`visitors` at once, each starting a new conversation when one ends, for `seconds`."""
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=visitors)
    ) as session:
        until = time.monotonic() + seconds
        counter = iter(range(10**9))

        async def one(slot: int) -> None:
            await asyncio.sleep(think * slot / max(visitors, 1))
            visitor = Visitor(session, url, tally, apology_texts(), phase, think, marks)
            while time.monotonic() < until:
                await visitor.run(random.choice(SCENARIOS), next(counter))

        await asyncio.gather(*(one(i) for i in range(visitors)))


# -- checks ----------------------------------------------------------------------------------
def export(stack: Stack) -> List[Dict[str, Any]]:
    for _ in range(10):  # the database may be restarting
        result = subprocess.run(
            [sys.executable, "-m", "bot", "leads", "export"],
            cwd=ROOT, env=stack.env, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode == 0:
            return json.loads(result.stdout)
        time.sleep(2)
    raise RuntimeError("leads export failed")


def pids(stack: Stack) -> Dict[str, int]:
    folder = ROOT / ".run" / f"pids-{stack.env['RASA_PORT']}"
    return {path.stem: int(path.read_text()) for path in folder.glob("*.pid")}


@dataclass
class Line:
    drill: str
    passed: bool
    detail: str

    def text(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.drill}: {self.detail}"


PROBLEM_TRANSCRIPTS: List[str] = []  # written into the report


def check_leads(outcomes: Sequence[Outcome], leads: Dict[str, Dict[str, Any]]) -> List[str]:
    """What is wrong between what visitors were told and what is stored."""
    problems: List[str] = []
    for outcome in outcomes:
        before = len(problems)
        problems += _problems(outcome, leads.get(outcome.sender))
        if len(problems) > before:
            PROBLEM_TRANSCRIPTS.append(
                f"{outcome.sender} ({outcome.phase}, {outcome.scenario}): {problems[-1]}\n"
                + "\n".join(f"    {line}" for line in outcome.transcript)
            )
    return problems


def _problems(outcome: Outcome, lead: Dict[str, Any] | None) -> List[str]:
    if outcome.erased:
        return [f"{outcome.scenario}: told erased, lead still stored"] if lead is not None else []
    if outcome.erase_unanswered:
        return [f"{outcome.scenario}: 'forget me' neither done nor refused"]
    if outcome.scenario == "erase":
        return []  # told each time that nothing was deleted yet: the lead stays, as promised
    problems: List[str] = []
    if outcome.told_booked and not (lead and lead.get("meeting_start")):
        problems.append(f"{outcome.scenario}: told booked, no committed meeting")
    if outcome.told_booked and not outcome.consent_acknowledged:
        problems.append(f"{outcome.scenario}: booked, but the consent step was not recognised")
    if outcome.consent_acknowledged and lead is None:
        problems.append(f"{outcome.scenario}: consent given, lead lost")
    if outcome.completed and lead and lead.get("company_size") != outcome.expected_size:
        problems.append(f"{outcome.scenario}: company size {lead.get('company_size')}")
    if outcome.scenario in ("decline", "question") and lead is not None:
        problems.append(f"{outcome.scenario}: a lead was stored without consent")
    return problems


def booking_hooks(received: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The rep webhooks of bookings: plain text; a handoff notice is Slack Block Kit."""
    return [
        h for h in received
        if h["path"] == "/rep" and not ((h["body"] or {}).get("blocks"))
    ]  # fmt: skip


def double_bookings(leads: Sequence[Dict[str, Any]]) -> int:
    booked = [(lead["rep_email"], lead["meeting_start"]) for lead in leads if lead["meeting_start"]]
    return len(booked) - len(set(booked))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true", help="~3 minutes in all (make test)")
    parser.add_argument("--visitors", type=int, help="at once (default 100; short 20)")
    parser.add_argument("--load-seconds", type=float, help="drill (a) (default 600; short 20)")
    parser.add_argument("--fault-seconds", type=float, help="drills (b)-(d) (default 720; 60)")
    parser.add_argument("--outage-seconds", type=float, help="SMTP/webhook down (600; short 25)")
    parser.add_argument(
        "--think", type=float, default=THINK_SECONDS,
        help=f"mean seconds a visitor takes to type (default {THINK_SECONDS:.0f}; short 1)",
    )  # fmt: skip
    parser.add_argument("--out", default=str(ROOT / "reports" / "drills.md"))
    parser.add_argument("--logs", help="copy the stack's and PostgreSQL's logs into this folder")
    args = parser.parse_args()
    short = args.short
    visitors = args.visitors or (20 if short else 100)
    load_s = args.load_seconds or (20 if short else 600)
    fault_s = args.fault_seconds or (60 if short else 720)
    outage_s = args.outage_seconds or (25 if short else 600)
    think = args.think if not short else min(args.think, 1.0)

    started = time.monotonic()
    lines: List[Line] = []
    notes: List[str] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        tmp.chmod(0o755)
        postgres = PrivatePostgres(tmp / "pg").start()
        redis = PrivateRedis().start()
        mail = MailSink(free_port()).start()
        webhooks = WebhookSink().start()
        queue = f"leadbot_drills_{uuid.uuid4().hex[:8]}"
        stack: Stack | None = None
        try:
            (tmp / "stack").mkdir()
            stack = start_stack(
                tmp / "stack",
                {
                    "DATABASE_URL": postgres.url("leadbot"),
                    "TRACKER_STORE_URL": postgres.url("leadbot_tracker", "postgresql"),
                    "LOCK_STORE_URL": f"redis://127.0.0.1:{redis.port}/0",
                    "EVENT_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672",
                    "EVENT_BROKER_QUEUE": queue,
                    "RASA_REPLICA_PORTS": f"{free_port()},{free_port()}",
                    "ACTION_REPLICA_PORTS": f"{free_port()},{free_port()}",
                    "WORKERS": "2",
                    "REPS_FILE": str(drill_reps_file(
                        tmp, DRILL_HORIZON_DAYS["short" if short else "full"]
                    )),  # fmt: skip
                    "SMTP_HOST": "127.0.0.1",
                    "SMTP_PORT": str(mail.port),
                    "SMTP_STARTTLS": "false",
                    "REP_WEBHOOK_URL": f"http://127.0.0.1:{webhooks.port}/rep",
                    "CRM_WEBHOOK_URL": f"http://127.0.0.1:{webhooks.port}/crm",
                    "WEBHOOK_SECRET": uuid.uuid4().hex,
                    "WORKER_POLL_SECONDS": "1",
                    "OUTBOX_MAX_BACKOFF_S": "5",
                    "LOG_LEVEL": "WARNING",
                },
                args=["--production"],
            )
            notes.append(f"production layout ready after {time.monotonic() - started:.0f} s")
            url = f"{stack.rasa_url}/webhooks/rest/webhook"

            # (a) load, nothing broken
            clean = Tally()
            asyncio.run(load(url, visitors, load_s, clean, "load", think, {}))
            leads = {row["conversation_id"]: row for row in export(stack)}
            problems = check_leads(clean.outcomes, leads)
            completed = [o for o in clean.outcomes if o.completed]
            stored_complete = [
                leads[o.sender] for o in clean.outcomes
                if o.sender in leads and leads[o.sender].get("outcome") == "meeting_booked"
            ]  # fmt: skip
            doubles = double_bookings(list(leads.values()))
            ok = (
                clean.errors == 0 and clean.silent == 0 and clean.unanswered == 0
                and clean.apologies == 0 and not problems and doubles == 0
                and len(stored_complete) == len(completed) and completed
            )  # fmt: skip
            lines.append(Line(
                "(a) load",
                bool(ok),
                f"{visitors} visitors at once for {load_s:.0f} s through HAProxy: "
                f"{len(clean.outcomes)} conversations, {clean.messages} messages, "
                f"{clean.errors} errors, {clean.silent} silent, {clean.apologies} apologies; "
                f"{len(stored_complete)} booked leads stored == {len(completed)} consenting "
                f"completed conversations; {doubles} double bookings"
                + (f"; problems: {problems[:3]}" if problems else ""),
            ))  # fmt: skip

            # (b)-(d) faults under load; SMTP and webhooks down from the start
            faulty = Tally()
            mail_before, hooks_before = len(mail.messages), len(webhooks.received)
            mail.stop()
            webhooks.stop()
            t0 = time.monotonic()
            marks: Dict[str, float] = {}
            events: List[str] = []

            def at(share: float) -> float:
                return t0 + fault_s * share

            schedule = [
                (at(0.15), "kill -9 rasa replica 1",
                 lambda: os.kill(pids(stack)["rasa-replica-1"], signal.SIGKILL)),
                (at(0.35), "kill -9 action server 1",
                 lambda: os.kill(pids(stack)["action-server-1"], signal.SIGKILL)),
                (at(0.55), "PostgreSQL restart", postgres.restart),
                (at(0.75), "Redis restart", redis.restart),
            ]  # fmt: skip
            smtp_back = t0 + outage_s

            async def faults() -> None:
                nonlocal mail
                pending = sorted(schedule + [(smtp_back, "SMTP and webhook back", None)],
                                 key=lambda item: item[0])  # fmt: skip
                for when, name, action in pending:
                    await asyncio.sleep(max(0.0, when - time.monotonic()))
                    if action is None:
                        mail_messages = mail.messages
                        mail = MailSink(mail.port).start()
                        mail.messages = mail_messages
                        webhooks.start()
                    else:
                        await asyncio.to_thread(action)
                    marks[name] = time.monotonic()
                    events.append(f"{time.monotonic() - t0:5.1f} s: {name}")

            async def fault_run() -> None:
                await asyncio.gather(
                    load(url, visitors, fault_s, faulty, "faults", think, marks), faults()
                )

            asyncio.run(fault_run())
            # Let the workers deliver what the outage held back (backoff ≤ 5 s here).
            leads_list = export(stack)
            leads = {row["conversation_id"]: row for row in leads_list}
            booked = [lead for lead in leads_list if lead["meeting_start"]]
            deadline = time.monotonic() + (45 if short else 180)
            while time.monotonic() < deadline:
                rep_mails = [m for m in mail.messages if "Meeting booked" in str(m["Subject"])]
                rep_hooks = booking_hooks(webhooks.received)
                crm_booked = [
                    h for h in webhooks.received
                    if h["path"] == "/crm" and (h["body"] or {}).get("type") == "meeting.booked"
                ]  # fmt: skip
                if min(len(rep_mails), len(rep_hooks), len(crm_booked)) >= len(booked):
                    break
                time.sleep(2)
            time.sleep(3)  # anything delivered twice would arrive now
            problems = check_leads(faulty.outcomes, leads)
            fault_ok = faulty.silent == 0 and faulty.unanswered == 0 and not problems
            lines.append(Line(
                "(b) kill -9 replica, kill -9 action server, PostgreSQL restart",
                fault_ok and double_bookings(leads_list) == 0,
                f"{len(faulty.outcomes)} conversations, {faulty.messages} messages: "
                f"{faulty.errors} errors and {faulty.apologies} apologies answered by a retry, "
                f"{faulty.silent} silent, {faulty.unanswered} unanswered; "
                f"{sum(o.told_booked for o in faulty.outcomes)} told booked, all committed: "
                f"{not any('told booked' in p for p in problems)}; no consent lost: "
                f"{not any('lead lost' in p for p in problems)}; "
                f"{double_bookings(leads_list)} double bookings"
                + (f"; problems: {problems[:3]}" if problems else ""),
            ))  # fmt: skip
            rep_mails = [m for m in mail.messages if "Meeting booked" in str(m["Subject"])]
            subjects = Counter(
                (str(m["To"]), str(m["Subject"])) for m in rep_mails
            )  # fmt: skip
            crm_bodies = [h["body"] or {} for h in webhooks.received if h["path"] == "/crm"]
            # A CRM event carries a unique id (receivers de-duplicate on it): a second delivery
            # of one event would repeat its id.
            crm_ids = Counter(
                body.get("id") or json.dumps(body, sort_keys=True) for body in crm_bodies
            )
            crm_booked = [
                body for body in crm_bodies
                if (body.get("type") or body.get("event")) in ("meeting.booked", "meeting_booked")
            ]  # fmt: skip
            rep_hooks = booking_hooks(webhooks.received)
            other_hooks = [
                h for h in webhooks.received if h["path"] == "/rep" and h not in rep_hooks
            ]  # fmt: skip
            notes += [
                "other rep notice (Slack Block Kit): "
                + str((h["body"] or {}).get("text") or "").split(":")[0][:80]
                for h in other_hooks
            ]
            invites = sum(
                any(p.get_filename() == "invite.ics" for p in m.iter_attachments())
                for m in rep_mails
            )
            # Every email once: a second delivery repeats its recipient and subject. Visitors
            # get a confirmation of their own where this version sends one.
            all_mail = Counter((str(m["To"]), str(m["Subject"])) for m in mail.messages)
            visitor_mails = [m for m in mail.messages if "your meeting" in str(m["Subject"])]
            once = (
                sum(all_mail.values()) == len(all_mail)
                and len(visitor_mails) in (0, len(booked))
                and len(rep_mails) == len(booked) == len(subjects) == invites
                and len(crm_ids) == len(crm_bodies)
                and len(crm_booked) == len(booked) == len(rep_hooks)
            )
            lines.append(Line(
                "(c) SMTP and webhook down, then back",
                once and len(mail.messages) > mail_before and len(webhooks.received) > hooks_before,
                f"down for {outage_s:.0f} s under load; {len(booked)} meetings booked in all: "
                f"{len(rep_mails)} rep emails ({len(subjects)} distinct, {invites} with the "
                f"invite), {len(visitor_mails)} visitor confirmations, "
                f"{sum(all_mail.values())} emails ({len(all_mail)} distinct), "
                f"{len(rep_hooks)} rep webhooks of bookings ({len(other_hooks)} other notices), "
                f"{len(crm_booked)} CRM meeting.booked "
                f"events; {len(crm_bodies)} CRM events delivered, {len(crm_ids)} distinct",
            ))  # fmt: skip
            after_redis = faulty.answered_after.get("Redis restart", 0)
            lines.append(Line(
                "(d) Redis restarted mid-run",
                after_redis > 0 and faulty.unanswered == 0,
                f"{after_redis} messages answered after the restart, "
                f"{faulty.unanswered} unanswered",
            ))  # fmt: skip
            notes += events
        finally:
            if stack is not None and stack.process.poll() is None:
                stop_stack(stack)
            if args.logs:
                keep = Path(args.logs)
                keep.mkdir(parents=True, exist_ok=True)
                for log in (tmp / "stack" / "stack.log", tmp / "pg" / "log"):
                    if log.exists():
                        shutil.copy(log, keep / f"{log.parent.name}-{log.name}")
            mail.stop()
            webhooks.stop()
            redis.stop()
            postgres.stop()
            delete_queue(queue)
    elapsed = time.monotonic() - started
    args.think = think
    args.horizon_days = DRILL_HORIZON_DAYS["short" if short else "full"]
    write_report(Path(args.out), lines, notes, args, visitors, load_s, fault_s, outage_s, elapsed)
    for line in lines:
        print(line.text(), flush=True)
    return 0 if lines and all(line.passed for line in lines) else 1


def write_report(
    path: Path, lines: Sequence[Line], notes: Sequence[str], args: argparse.Namespace,
    visitors: int, load_s: float, fault_s: float, outage_s: float, elapsed: float,
) -> None:  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    command = "python scripts/drills.py " + " ".join(sys.argv[1:])
    body = [
        "# Drills: the production layout under load and faults",
        "",
        f"Command: `{command.strip()}` (`make drills`; `--short` in `make test`), "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}, {os.cpu_count()} cores "
        f"(load average {os.getloadavg()[0]:.1f} at the end), "
        f"{elapsed:.0f} s in all.",
        "",
        f"Production layout (`python -m bot serve --production`): HAProxy, 2 Rasa replicas, "
        f"2 action servers, web, 2 workers; private PostgreSQL and Redis, RabbitMQ, aiosmtpd, "
        f"a webhook endpoint. {visitors} visitors at once, ~{args.think:.0f} s between messages "
        f"(mix: qualifications that book, corrections, questions, declines, erasures); drill "
        f"(a) {load_s:.0f} s; drills (b)–(d) {fault_s:.0f} s with SMTP and the webhook down "
        f"for the first {outage_s:.0f} s. The drill's reps (config/reps.yml) offer times up to "
        f"{args.horizon_days} days ahead, so its bookings don't fill their calendars.",
        "",
        "## Results",
        "",
        *[f"- `{line.text()}`" for line in lines],
        "",
        "## Timeline",
        "",
        *[f"- {note}" for note in notes],
        "",
    ]
    if PROBLEM_TRANSCRIPTS:
        body += ["## Conversations that failed a check", "", "```", *PROBLEM_TRANSCRIPTS, "```", ""]
    path.write_text("\n".join(body))


if __name__ == "__main__":
    sys.exit(main())
