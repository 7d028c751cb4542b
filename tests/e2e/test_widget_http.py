"""The widget's server side over HTTP: the Rasa widget channel (CORS, validation, rate limit,
metadata into the tracker, idempotent retries) and the web process (widget.js, pages, health,
the pass-through of chat requests). The request checks one by one are in tests/bot/test_edge.py,
the per-address limits across processes in tests/e2e/test_edge_limits.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

HOOK = "/webhooks/widget/webhook"


def post(url: str, body: object = None, origin: str | None = None, raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = origin
    if raw is not None:
        return requests.post(url, data=raw, headers=headers, timeout=30)
    return requests.post(url, json=body, headers=headers, timeout=30)


def session(stack: Stack) -> dict:
    """{"sender", "session"} of a new visitor session, as the widget sends them."""
    return stack.new_session()


def test_cors_preflight_and_origins(stack: Stack) -> None:
    allowed = stack.web_url  # the web process's own origin is always allowed
    url = f"{stack.rasa_url}{HOOK}"
    preflight = requests.options(
        url,
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == allowed
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()

    refused = requests.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    blocked = post(url, {"sender": "x1", "message": "hi"}, origin="https://evil.example")
    assert blocked.status_code == 403 and blocked.json()["error"] == "origin_not_allowed"

    ok = post(url, {**session(stack), "message": "/greet"}, origin=allowed)
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == allowed
    assert "bot" in " ".join(m.get("text", "") for m in ok.json())


def test_malformed_requests_get_json_errors(stack: Stack) -> None:
    url = f"{stack.rasa_url}{HOOK}"
    for raw, code in (
        (b"{nope", "invalid_json"),
        (b'{"sender": 12, "message": "hi"}', "invalid_sender"),
        (b'{"sender": "ok", "message": ["hi"]}', "invalid_message"),
        (b'{"sender": "ok", "message": "hi", "metadata": "x"}', "invalid_metadata"),
    ):
        response = post(url, raw=raw, origin=stack.web_url)
        assert response.status_code == 400, raw
        assert response.json()["error"] == code
        assert response.headers["Access-Control-Allow-Origin"] == stack.web_url
    too_big = post(url, raw=b'{"sender": "ok", "message": "' + b"x" * 40_000 + b'"}')
    assert too_big.status_code == 413


def test_rate_limit_per_sender(stack: Stack) -> None:
    url = f"{stack.rasa_url}{HOOK}"
    visitor = session(stack)
    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(lambda _: post(url, {**visitor, "message": ""}), range(25)))
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) >= 5, [r.status_code for r in responses]
    assert limited[0].json()["error"] == "rate_limited" and limited[0].headers["Retry-After"]
    # Another visitor is not affected.
    assert post(url, {**session(stack), "message": "hi"}).status_code == 200


def test_metadata_reaches_the_tracker_and_retries_are_answered_once(stack: Stack) -> None:
    visitor = session(stack)
    sender = visitor["sender"]
    body = {
        **visitor,
        "message": "how much does it cost?",
        "message_id": "m1",
        "metadata": {"page_url": "https://example.com/pricing?utm_source=ads", "locale": "fr-FR"},
    }
    first = post(f"{stack.web_url}{HOOK}", body, origin=stack.web_url)  # through the web process
    again = post(f"{stack.rasa_url}{HOOK}", body)  # a retry of the same message
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and "$49" in first.json()[0]["text"]
    users = [e for e in stack.tracker_events(sender) if e["event"] == "user"]
    assert len(users) == 1
    assert users[0]["metadata"]["page_url"] == "https://example.com/pricing?utm_source=ads"
    assert users[0]["input_channel"] == "widget"


def test_web_process_serves_widget_pages_and_health(stack: Stack) -> None:
    widget = requests.get(f"{stack.web_url}/widget.js", timeout=10)
    assert widget.status_code == 200
    assert widget.headers["Content-Type"].startswith("application/javascript")
    assert "max-age" in widget.headers["Cache-Control"] and widget.headers["ETag"]
    assert widget.headers["X-Content-Type-Options"] == "nosniff"
    cached = requests.get(
        f"{stack.web_url}/widget.js", headers={"If-None-Match": widget.headers["ETag"]}
    )
    assert cached.status_code == 304

    home = requests.get(f"{stack.web_url}/", timeout=10)
    assert home.status_code == 200 and "text/html" in home.headers["Content-Type"]
    csp = home.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert f'src="{stack.web_url}/widget.js"' in home.text
    assert "&lt;script src=" in home.text  # the snippet, shown as text
    for path, words in (("/pricing", "$49"), ("/privacy", "delete my data")):
        page = requests.get(f"{stack.web_url}{path}", timeout=10)
        assert page.status_code == 200 and words in page.text
    assert requests.get(f"{stack.web_url}/health", timeout=10).json() == {
        "status": "ok",
        "chat": "ok",
    }
    missing = requests.get(f"{stack.web_url}/nope", timeout=10)
    assert missing.status_code == 404 and missing.headers["X-Content-Type-Options"] == "nosniff"
