"""A real CRM webhook receiver for the tests: an HTTP server that checks every request with the
verification snippet from the README (so the documented snippet is what is tested)."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[2]


def readme_snippet() -> str:
    """The Python block after `<!-- verify-snippet -->` in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- verify-snippet -->\n```python\n(.*?)```", text, flags=re.DOTALL)
    assert match, "README.md has no verification snippet"
    return match.group(1)


def readme_verify() -> Callable[..., Any]:
    namespace: Dict[str, Any] = {}
    exec(compile(readme_snippet(), "README.md:verify-snippet", "exec"), namespace)  # noqa: S102
    return namespace["verify"]


@dataclass
class Receiver:
    secret: str
    url: str = ""
    fail_first: int = 0  # answer 503 to this many requests first (an outage)
    events: List[Dict[str, Any]] = field(default_factory=list)  # processed, in order
    raw: List[Tuple[bytes, str]] = field(default_factory=list)  # (body, signature header)
    answers: List[int] = field(default_factory=list)
    seen: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.verify = readme_verify()

    def handle(self, body: bytes, header: str) -> int:
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                self.answers.append(503)
                return 503
            self.raw.append((body, header))
            try:
                event = self.verify(body, header, self.secret, self.seen)
            except (ValueError, KeyError):
                self.answers.append(400)
                return 400
            if event is not None:
                self.events.append(event)
            self.answers.append(200)
            return 200

    def types_by_lead(self) -> List[Tuple[str, str]]:
        return [(e["type"], e["data"]["lead"]["id"]) for e in self.events]


def start_receiver(secret: str, port: int) -> Tuple[Receiver, ThreadingHTTPServer]:
    state = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = state.handle(body, self.headers.get("Leadbot-Signature", ""))
            payload = json.dumps({"ok": status == 200}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{port}/crm"
    return state, server
