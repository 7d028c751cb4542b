"""A local Slack incoming-webhook receiver for end-to-end tests: it answers like Slack does
(`ok`, or HTTP 400 `invalid_blocks` / `invalid_payload`) after checking each message against
the Block Kit rules Slack documents (api.slack.com/reference/block-kit), and keeps what it
accepted."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List

BLOCK_TYPES = {"header", "section", "actions", "context", "divider", "image", "input"}


def block_kit_problems(message: Any) -> List[str]:
    """What is wrong with an incoming-webhook body, as Slack would refuse it ([] if fine)."""
    problems: List[str] = []
    if not isinstance(message, dict):
        return ["the body is not a JSON object"]
    if not isinstance(message.get("text"), str) or not message["text"].strip():
        problems.append("no top-level text (the notification fallback)")
    blocks = message.get("blocks", [])
    if not isinstance(blocks, list) or not 0 < len(blocks) <= 50:
        return problems + ["blocks must be a list of 1 to 50 blocks"]

    def text_object(obj: Any, where: str, kinds: tuple, limit: int) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in kinds:
            problems.append(f"{where}: a text object of type {'/'.join(kinds)}")
        elif not isinstance(obj.get("text"), str) or not 0 < len(obj["text"]) <= limit:
            problems.append(f"{where}: text of 1 to {limit} characters")

    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in BLOCK_TYPES:
            problems.append(f"{where}: unknown block type {kind!r}")
            continue
        if kind == "header":
            text_object(block.get("text"), where + ".text", ("plain_text",), 150)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: a section needs text or fields")
            if "text" in block:
                text_object(block["text"], where + ".text", ("plain_text", "mrkdwn"), 3000)
            fields = block.get("fields", [])
            if not isinstance(fields, list) or len(fields) > 10:
                problems.append(f"{where}.fields: at most 10")
            for number, field in enumerate(fields if isinstance(fields, list) else []):
                text_object(field, f"{where}.fields[{number}]", ("plain_text", "mrkdwn"), 2000)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= 25:
                problems.append(f"{where}.elements: 1 to 25 elements")
                continue
            for number, element in enumerate(elements):
                at = f"{where}.elements[{number}]"
                if not isinstance(element, dict) or element.get("type") != "button":
                    problems.append(f"{at}: expected a button")
                    continue
                text_object(element.get("text"), at + ".text", ("plain_text",), 75)
                url = element.get("url", "")
                if url and (not url.startswith(("http://", "https://")) or len(url) > 3000):
                    problems.append(f"{at}.url: an http(s) URL of at most 3000 characters")
                if element.get("style") not in (None, "primary", "danger"):
                    problems.append(f"{at}.style: primary or danger")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 0 < len(elements) <= 10:
                problems.append(f"{where}.elements: 1 to 10 elements")
            for number, element in enumerate(elements if isinstance(elements, list) else []):
                text_object(element, f"{where}.elements[{number}]", ("plain_text", "mrkdwn"), 3000)
    return problems


class SlackReceiver:
    def __init__(self) -> None:
        self.accepted: List[Dict[str, Any]] = []
        self.refused: List[List[str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._answer(400, "invalid_payload")
                problems = block_kit_problems(body)
                if problems:
                    receiver.refused.append(problems)
                    return self._answer(400, "invalid_blocks")
                receiver.accepted.append(body)
                return self._answer(200, "ok")

            def _answer(self, status: int, text: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/services/T000/B000/xyz"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> SlackReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(
        self, matches: Callable[[Dict[str, Any]], bool], timeout: float = 40.0
    ) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in list(self.accepted):
                if matches(message):
                    return message
            time.sleep(0.3)
        raise AssertionError(
            f"no matching Slack message in {timeout}s; accepted {len(self.accepted)}, "
            f"refused {self.refused}"
        )
