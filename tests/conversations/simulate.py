"""The conversation simulator: plays generated visitors (personas.py) against the running stack
over HTTP, several at once, and checks each whole conversation.

A simulated visitor reads each reply, works out which question the bot is asking, and answers
it the way its persona talks (interrupting where its script says). A conversation is *fully
right* when it ends where it should, the exported lead holds the right values, and it never got
stuck. *Stuck* means a question asked more than three times in a row, the same reply three
times running, or no way forward (no reply, or no question and no ending).

    python -m tests.conversations.simulate --count 320 --report reports/conversations.md

(`make simulate`) starts its own stack; tests/conversations/test_simulated_conversations.py
runs a short set inside `make test` on the shared test stack.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import requests

from tests.conversations.personas import Script, generate

MAX_MESSAGES = 40
# Markers of each question in the bot's words (domain.yml): the ask, its re-asks, its
# explanation. The question whose marker comes last in a reply is the one being asked.
QUESTION_MARKERS: Dict[str, Tuple[str, ...]] = {
    "consent": ("may I store your answers", "need a clear yes or no"),
    "nurture_consent": ("email you occasional follow-ups", "may we email you"),
    "name": ("your name", "What should I call you", "catch a name", "long for a name"),
    "email": (
        "best email address",
        "valid email address",
        "needs an @",
        "Did you mean",
        "I need an email address",
        "mail server for that domain",
        "type it again",
    ),
    "role": ("role or job title", "didn't get your role", "Job titles can't"),
    "company": ("Which company", "company do you work for", "Company names can't"),
    "company_size": (
        "how many people",
        "number of people",
        "how many are you",
        "any company on Earth",
    ),
    "budget": ("What budget", "find an amount", "exchange rate"),
    "timeline": ("when are you hoping", "when you'd like to start", "already passed"),
    "meeting": (
        "Pick a time",
        "some later times",
        "which time you mean",
        "calendar is full",
        "someone just took that time",
    ),
}
ENDINGS = (
    "passed everything",
    "passed what you told me",
    "You're booked",
    "call you back",
    "won't store anything",
    "flagged this conversation",
    "reach a person",
    "asked our sales team to get in touch",
    "already have everything",
)
# The replies to a request for a person (domain.yml, utter_handoff_*): a rep asked to join the
# chat now, or nobody working now (a call or a message offered). Which one depends on the
# time of day the simulator runs.
HANDED_OVER = ("join this chat", "outside working hours")
BROKEN = ("having trouble on my side", "something went wrong on my side")


def asked_question(reply: str) -> str | None:
    best, position = None, -1
    for question, markers in QUESTION_MARKERS.items():
        for marker in markers:
            found = reply.rfind(marker)
            if found > position:
                best, position = question, found
    return best


@dataclass
class Result:
    script: Script
    transcript: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    stuck: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # detours that are not failures
    offered_meeting: bool = False
    booked: bool = False
    callback: bool = False
    handed_off: bool = False
    turns: int = 0
    seconds: float = 0.0

    @property
    def fully_right(self) -> bool:
        return not self.problems and not self.stuck


class Visitor:
    """One simulated visitor talking to the REST channel."""

    def __init__(self, rasa_url: str, script: Script, sender: str) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.script = script
        self.sender = sender
        self.result = Result(script)
        self.replies: List[str] = []
        self.buttons: List[Dict[str, str]] = []
        self.asked: List[str | None] = []

    def say(self, text: str) -> str:
        for attempt in range(3):
            try:
                response = requests.post(
                    self.url,
                    json={"sender": self.sender, "message": text, "metadata": self.script.metadata},
                    timeout=90,
                )
                if response.status_code == 429 and attempt < 2:
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                response.raise_for_status()
                break
            except requests.RequestException as error:
                if attempt == 2:
                    self.result.problems.append(f"HTTP error: {type(error).__name__}")
                    return ""
                time.sleep(1)
        messages = response.json()
        reply = "\n".join(m.get("text") or "" for m in messages)
        self.buttons = [b for m in messages for b in m.get("buttons") or []]
        self.result.transcript += [f"> {text}", *(f"< {m.get('text')}" for m in messages)]
        self.result.turns += 1
        self._check_reply(reply)
        return reply

    def _check_reply(self, reply: str) -> None:
        if not reply.strip():
            self.result.stuck.append("no reply")
        elif any(marker in reply for marker in BROKEN):
            self.result.problems.append("the bot apologised for an error")
        self.replies.append(reply)
        if len(self.replies) >= 3 and len(set(self.replies[-3:])) == 1:
            self.result.stuck.append("the same reply three times running")
        question = asked_question(reply)
        self.asked.append(question)
        if question and len(self.asked) >= 4 and len(set(self.asked[-4:])) == 1:
            self.result.stuck.append(f"{question} asked more than three times in a row")

    def click(self, payload_prefix: str) -> str | None:
        for button in self.buttons:
            if button["payload"].startswith(payload_prefix):
                return self.say(button["payload"])
        return None

    def run(self) -> Result:
        started = time.monotonic()
        script = self.script
        pending = {question: list(texts) for question, texts in script.answers.items()}
        before = {question: list(texts) for question, texts in script.before.items()}
        reply = self.say(script.opener)
        sent, resumes = 1, 0
        while sent < MAX_MESSAGES and not self.result.stuck and not self.result.problems:
            question = asked_question(reply)
            if question is None and "paused here" in reply and resumes < 2:
                # The bot took an answer for "stop": a visitor who meant to go on says so.
                self.result.notes.append("paused unexpectedly")
                resumes += 1
                reply = self.say("let's continue")
                sent += 1
                continue
            if question is None:
                if not any(ending in reply for ending in ENDINGS):
                    self.result.stuck.append(f"no question and no ending after: {reply[:80]!r}")
                break
            if question == "meeting":
                self.result.offered_meeting = True
                booked = self.click("/choose_meeting")
                if booked is None:
                    booked = self.click("/request_callback")
                    self.result.callback = booked is not None
                else:
                    self.result.booked = "You're booked" in booked
                    self.result.callback = "call you back" in booked
                if booked is None:
                    self.result.problems.append("a meeting offer with no button to press")
                reply = booked or ""
                sent += 1
                continue
            if question == script.handoff_at:
                reply = self.say(script.handoff_at and _handoff_text(script))
                # Flagged for a person; before the email was given, told how to reach one.
                self.result.handed_off = any(said in reply for said in HANDED_OVER)
                if not self.result.handed_off:
                    self.result.problems.append("asked for a person, wasn't handed over")
                break
            if before.get(question):
                reply = self.say(before[question].pop(0))
            elif question == "consent":
                reply = self.say(script.consent)
            elif question == "nurture_consent":
                reply = self.say(script.nurture)
            elif pending.get(question):
                reply = self.say(pending[question].pop(0))
            else:
                # The visitor has nothing more to say to this question: repeat the answer.
                reply = self.say(script.answers[question][-1])
            sent += 1
        if sent >= MAX_MESSAGES:
            self.result.stuck.append(f"not finished after {MAX_MESSAGES} messages")
        self.result.seconds = time.monotonic() - started
        return self.result


def _handoff_text(script: Script) -> str:
    from tests.conversations.personas import HANDOFF

    return HANDOFF[hash(script.id) % len(HANDOFF)]


def check_lead(result: Result, lead: Dict[str, Any] | None) -> None:
    """Compare the exported lead with what the visitor really said."""
    script = result.script
    if not script.consents:
        if lead is not None:
            result.problems.append("a lead was stored without consent")
        return
    if lead is None:
        result.problems.append("no lead stored")
        return
    if script.handoff_at:
        if not lead.get("needs_human"):
            result.problems.append("not flagged for a person")
        return
    for key, want in script.expected.items():
        got = lead.get(key)
        if key == "seniority":
            got = lead.get("seniority")
        if isinstance(want, str) and isinstance(got, str):
            if want.lower() != got.lower():
                result.problems.append(f"{key}: {got!r}, expected {want!r}")
        elif got != want:
            result.problems.append(f"{key}: {got!r}, expected {want!r}")
    if script.role_contains and script.role_contains not in (lead.get("role") or "").lower():
        result.problems.append(f"role: {lead.get('role')!r}, expected {script.role_contains!r}")
    if (
        script.expect_meeting_offer is not None
        and result.offered_meeting != script.expect_meeting_offer
    ):
        result.problems.append(
            "offered a meeting" if result.offered_meeting else "no meeting offered to a hot lead"
        )
    if result.booked and lead.get("outcome") != "meeting_booked":
        result.problems.append(f"outcome {lead.get('outcome')!r} after booking")
    if result.callback and not lead.get("needs_human"):
        result.problems.append("call back asked, lead not flagged")
    if not result.offered_meeting and lead.get("status") != "complete":
        result.problems.append(f"status {lead.get('status')!r} at the end")


def play(
    rasa_url: str, scripts: Sequence[Script], export: Any, workers: int = 6, prefix: str = ""
) -> List[Result]:
    """Play every script (`workers` visitors at a time), then check the leads `export()` gives."""
    stamp = prefix or f"{int(time.time())}"

    def one(script: Script) -> Result:
        return Visitor(rasa_url, script, f"{script.id}-{stamp}").run()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, scripts))
    leads = {row["conversation_id"]: row for row in export()}
    for result in results:
        check_lead(result, leads.get(f"{result.script.id}-{stamp}"))
    return results


def summary(results: Sequence[Result]) -> Dict[str, Any]:
    right = sum(r.fully_right for r in results)
    return {
        "conversations": len(results),
        "fully_right": right,
        "fully_right_pct": round(100.0 * right / len(results), 1) if results else 0.0,
        "stuck": sum(bool(r.stuck) for r in results),
        "messages": sum(r.turns for r in results),
    }


def report(results: Sequence[Result], seconds: float, command: str) -> str:
    figures = summary(results)
    by_persona: Dict[str, List[Result]] = defaultdict(list)
    for result in results:
        by_persona[result.script.persona].append(result)
    problems = Counter(p.split(":")[0] for r in results for p in r.problems + r.stuck)
    lines = [
        "# Simulated conversations",
        "",
        f"`{command}` — {figures['conversations']} whole conversations "
        f"({figures['messages']} messages) against the running stack over HTTP, "
        f"in {seconds:.0f} s.",
        "",
        f"- **Fully right: {figures['fully_right']} of {figures['conversations']} "
        f"({figures['fully_right_pct']} %)** (target ≥ 97 %)",
        f"- **Stuck: {figures['stuck']}** (target 0): a question asked more than three times in a "
        "row, the same reply three times running, no reply, or no way forward",
        "",
        "| persona | conversations | fully right | stuck | meeting offered | avg messages |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for persona, group in sorted(by_persona.items()):
        lines.append(
            f"| {persona} | {len(group)} | {sum(r.fully_right for r in group)} | "
            f"{sum(bool(r.stuck) for r in group)} | {sum(r.offered_meeting for r in group)} | "
            f"{sum(r.turns for r in group) / len(group):.1f} |"
        )
    lines += ["", "## What went wrong", ""]
    if not problems:
        lines.append("Nothing.")
    for problem, count in problems.most_common():
        lines.append(f"- {problem}: {count}")
    failed = [r for r in results if not r.fully_right][:15]
    if failed:
        lines += ["", "## Examples (first 15 not fully right)", ""]
    for result in failed:
        lines += [
            f"### {result.script.id} ({', '.join(result.script.features)})",
            "",
            "Problems: " + "; ".join(result.stuck + result.problems),
            "",
            "```",
            *[line[:160] for line in result.transcript[-14:]],
            "```",
            "",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=320)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--report", default="reports/conversations.md")
    args = parser.parse_args(argv)

    from tests.e2e.stack import start_stack, stop_stack

    scripts = generate(args.count, args.seed)
    with tempfile.TemporaryDirectory(prefix="leadbot-sim-") as tmp:
        stack = start_stack(Path(tmp))
        try:
            started = time.monotonic()
            results = play(stack.rasa_url, scripts, stack.export, workers=args.workers)
            seconds = time.monotonic() - started
        finally:
            stop_stack(stack)
    command = (
        "make simulate (python -m tests.conversations.simulate "
        f"--count {args.count} --seed {args.seed})"
    )
    text = report(results, seconds, command)
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(text)
    figures = summary(results)
    print(
        f"{figures['fully_right']} of {figures['conversations']} conversations fully right "
        f"({figures['fully_right_pct']} %), {figures['stuck']} stuck; report in {args.report}"
    )
    return 0 if figures["stuck"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
