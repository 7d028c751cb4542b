"""A fuzzer against the real stack: thousands of malformed and hostile requests to every HTTP
entry point (the REST and widget channels, the visitor-session endpoint, Rasa's API without its
token, the action server with and without its secret, every route of the web process: pages,
inbox and exports, the widget's long-poll, the reps' handoff pages and forms as a signed-in rep
and as a stranger, the meeting cancel/reschedule pages, sign-in and invitations), then a normal
conversation.

What a user cares about: nothing anyone sends makes a server fail (no response >= 500), nothing
makes one hang (every request answered within its timeout), a malformed request to a channel or
the action server is told what is wrong in JSON, and the bot still answers afterwards.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import aiohttp
import pytest
import requests

from rasa_ext.channels import no_reply_text
from tests.e2e.stack import Stack, set_rep_password

pytestmark = pytest.mark.e2e

SEED = 8
TOTAL = 5_200
CONCURRENCY = 24
REQUEST_TIMEOUT_S = 60
INBOX_TOKEN = "e2e-inbox-token"  # tests/conftest.py's stack
REP_EMAIL = "fuzz-rep@example.com"
REP_PASSWORD = "fuzzing is a rep's worst day"


@dataclass
class Probe:
    entry: str  # the entry point, for the per-entry counts
    method: str
    url: str
    body: bytes | None = None
    headers: Dict[str, str] = field(default_factory=dict)
    json_errors: bool = False  # a 4xx answer must be a JSON object with "error"


# -- hostile values ------------------------------------------------------------------------

NASTY_STRINGS = [
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff\ud800",
    "\u202e\u202dreversed",
    "\ufeff",
    "🙂" * 50,
    "x" * 2001,
    "x" * 40_000,
    "<script>alert(1)</script>",
    "'; DROP TABLE leads; --",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "%s%s%s%n",
    "../../../../etc/passwd",
    "/restart",
    '/greet{"x": 1}',
    '/inform{"email": [1,2,3]}',
    '/choose_meeting{"slot": "\\u0000"}',
    "/affirm{",
    "/" + "a" * 300,
    "/nlu_fallback",
    "/session_start",
    "/action_forget_me",
    "forget me",
    "what do you know about me?",
    "\n\n\n",
    "\t",
    "null",
]
NASTY_VALUES: List[Any] = [
    None,
    True,
    0,
    -1,
    2**70,
    1e308,
    [],
    {},
    [None],
    {"a": {"b": {"c": []}}},
    "x",
    ["hi"],
    {"text": "hi"},
]


def nasty_value(rng: random.Random) -> Any:
    return rng.choice(NASTY_VALUES + NASTY_STRINGS)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def random_bytes(rng: random.Random, size: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(size))


def chat_body(rng: random.Random, senders: List[str]) -> Tuple[bytes, Dict[str, str]]:
    """A malformed or hostile chat request body (sometimes a well-formed one)."""
    kind = rng.randrange(16)
    headers = {"Content-Type": rng.choice(["application/json", "text/plain", "", "x/y"])}
    if kind == 0:
        return random_bytes(rng, rng.randrange(0, 300)), headers
    if kind == 1:
        return rng.choice([b"", b"{", b"null", b"[]", b"[1,2]", b'"str"', b"1", b"{}"]), headers
    if kind == 2:
        return nested(rng.choice([100, 5_000, 15_000])).encode(), headers
    if kind == 3:
        return b'{"sender": "s", "message": "hi", "metadata": {"x": NaN}}', headers
    if kind == 4:  # oversized
        size = rng.choice([33_000, 70_000, 300_000])
        return json.dumps({"sender": "s", "message": "x" * size}).encode(), headers
    if kind == 5:
        meta = {"k" * rng.randrange(1, 50): "v" * rng.choice([10, 9_000, 20_000])}
        return json.dumps({"sender": "s", "message": "hi", "metadata": meta}).encode(), headers
    if kind == 6:  # raw surrogates and NUL that json.dumps can carry
        text = rng.choice(["\\ud800", "\\u0000", "a\\udfffb", "\\ud83d"])
        body = '{"sender": "s-' + str(rng.randrange(3)) + '", "message": "' + text + '"}'
        return body.encode(), headers
    if kind == 7:  # invalid UTF-8 inside a JSON string
        return b'{"sender": "s", "message": "\xff\xfe\xc3"}', headers
    if kind == 8:  # duplicate keys, odd spacing
        return b'{"sender": "a", "sender": ["b"], "message": "hi" , "message": 5}', headers
    payload: Dict[str, Any] = {}
    for key in ("sender", "message", "metadata", "message_id", "input_channel", "session"):
        roll = rng.random()
        if roll < 0.15:
            continue
        if key == "sender" and roll < 0.55:
            payload[key] = rng.choice(senders)
        elif key == "message" and roll < 0.5:
            payload[key] = rng.choice(NASTY_STRINGS)
        elif key == "metadata" and roll < 0.5:
            payload[key] = {
                "page_url": nasty_value(rng),
                "utm_source": nasty_value(rng),
                "timezone": nasty_value(rng),
                "locale": nasty_value(rng),
            }
        elif key == "message_id" and roll < 0.5:
            payload[key] = f"m{rng.randrange(5)}"
        else:
            payload[key] = nasty_value(rng)
    try:
        return json.dumps(payload).encode(), headers
    except ValueError:
        return b"{}", headers


def action_call(rng: random.Random) -> bytes:
    """A malformed or hostile action server call."""
    kind = rng.randrange(8)
    if kind == 0:
        return random_bytes(rng, rng.randrange(1, 200))
    if kind == 1:
        return nested(rng.choice([50, 10_000])).encode()
    tracker: Dict[str, Any] = {
        "sender_id": rng.choice(["s", nasty_value(rng)]),
        "slots": rng.choice([{}, {"email": nasty_value(rng)}, nasty_value(rng)]),
        "latest_message": rng.choice(
            [
                {"text": nasty_value(rng), "intent": nasty_value(rng)},
                {"entities": nasty_value(rng)},
                nasty_value(rng),
            ]
        ),
        "events": rng.choice([[], [nasty_value(rng)], [{"event": nasty_value(rng)}], "x"]),
        "active_loop": rng.choice([{}, nasty_value(rng)]),
    }
    call = {
        "next_action": rng.choice(
            [
                "action_show_my_data",
                "action_forget_me",
                "validate_lead_form",
                "nope",
                nasty_value(rng),
            ]
        ),
        "tracker": rng.choice([tracker, nasty_value(rng)]),
        "domain": rng.choice([{}, nasty_value(rng)]),
        "version": nasty_value(rng),
    }
    try:
        return json.dumps(call).encode()
    except ValueError:
        return b"{}"


def odd_path(rng: random.Random) -> str:
    return rng.choice(
        [
            "/%00",
            "/..%2f..%2fetc%2fpasswd",
            "/" + "a" * 4000,
            "/%ff%fe",
            "/webhooks/rest/",
            "/webhooks/nope/webhook",
            "/webhooks/rest/webhook/extra",
            "/conversations/x/tracker/events",
            "/%F0%9F%99%82",
            "/?token=" + "x" * 3000,
            "/.env",
            "/var/secret_key",
        ]
    )


# -- the probes ----------------------------------------------------------------------------


@dataclass
class Keys:
    """What a real client holds: the action server's secret, a rep's signed-in session and
    its CSRF token, the sign-in form's double-submit CSRF token, a minted visitor session."""

    action_token: str
    rep_cookie: str
    rep_csrf: str
    login_csrf: str
    visitor: Dict[str, str]


def form_csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the form has no CSRF token"
    return found.group(1)


def keys(stack: Stack) -> Keys:
    set_rep_password(stack.env, REP_EMAIL, REP_PASSWORD)
    http = requests.Session()
    login = http.get(f"{stack.web_url}/inbox/login", timeout=30)
    login_csrf = http.cookies.get("leadbot_login_csrf", "")
    signed_in = http.post(
        f"{stack.web_url}/inbox/login",
        data={"email": REP_EMAIL, "password": REP_PASSWORD, "csrf": form_csrf(login.text)},
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.status_code
    return Keys(
        action_token=Path(stack.env["ACTION_SERVER_TOKEN_FILE"]).read_text().strip(),
        rep_cookie=http.cookies.get("leadbot_session", ""),
        rep_csrf=form_csrf(signed_in.text),
        login_csrf=login_csrf,
        visitor=stack.new_session(),
    )


def hostile_form(rng: random.Random, fields: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
    """A form POST: the fields as sent (some dropped, some nasty), or a body that is no form."""
    kind = rng.randrange(10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if kind == 0:
        headers["Content-Type"] = rng.choice(
            ["multipart/form-data; boundary=x", "multipart/form-data", "multipart/mixed; boundary="]
        )
        return rng.choice([b"--x\r\nnonsense", b"", random_bytes(rng, 300)]), headers
    if kind == 1:
        return b"a=" + b"x" * rng.choice([70_000, 200_000]), headers
    if kind == 2:
        headers["Content-Type"] = rng.choice(
            ["application/x-www-form-urlencoded; charset=nope", "text/plain", "application/json"]
        )
        return rng.choice([random_bytes(rng, 200), b"%%%%&&&===", b"\xff\xfe=\xc3"]), headers
    from urllib.parse import quote

    pairs = []
    for name, value in fields.items():
        roll = rng.random()
        if roll < 0.15:
            continue
        if roll < 0.35:
            value = nasty_value(rng)
        pairs.append(f"{quote(name)}={quote(str(value), safe='', errors='surrogatepass')}")
        if rng.random() < 0.05:  # the field twice
            pairs.append(f"{quote(name)}={quote(str(nasty_value(rng)), errors='surrogatepass')}")
    return "&".join(pairs).encode(), headers


def odd_id(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.getrandbits(128):032x}",
            f"{rng.getrandbits(96):024x}",  # well-formed, unknown
            "0" * 24,
            "A" * 24,
            "x",
            "%00",
            "%ff%fe",
            "%C3%A9" * 12,
            "%F0%9F%99%82",
            "a" * 5000,
            "..%2f..",
        ]
    )


def odd_token(rng: random.Random) -> str:
    return rng.choice(
        [
            "abc",
            "a" * 128,
            "a" * 129,
            "x" * 3000,
            "%00",
            "%C3%A9t%C3%A9",
            "..",
            "a.b.c",
            "-_-_",
            "%ff",
            "eyJtIjoxfQ.forged-signature",
            f"{rng.getrandbits(96):024x}",
        ]
    )


def probes(stack: Stack, keys: Keys, rng: random.Random) -> List[Probe]:
    action_token = keys.action_token
    rasa, action, web = stack.rasa_url, stack.action_url, stack.web_url
    senders = [f"fuzz-{i}" for i in range(6)]
    origin = stack.web_url
    makers: List[Tuple[int, Callable[[], Probe]]] = []

    def rest() -> Probe:
        body, headers = chat_body(rng, senders)
        if rng.random() < 0.3:
            headers["X-Forwarded-For"] = rng.choice(["1.2.3.4", "garbage", "::1, ::ffff:1.1.1.1"])
        return Probe(
            "rasa rest channel", "POST", f"{rasa}/webhooks/rest/webhook", body, headers, True
        )

    def widget() -> Probe:
        body, headers = chat_body(rng, senders)
        if rng.random() < 0.3:  # refused before anything is read
            headers["Origin"] = rng.choice(["https://evil.example", "null", "x" * 300])
        else:
            headers["Origin"] = origin
        if rng.random() < 0.1:
            return Probe(
                "rasa widget channel",
                "OPTIONS",
                f"{rasa}/webhooks/widget/webhook",
                None,
                {"Origin": headers["Origin"], "Access-Control-Request-Method": "POST"},
                True,
            )
        return Probe(
            "rasa widget channel", "POST", f"{rasa}/webhooks/widget/webhook", body, headers, True
        )

    def rasa_api() -> Probe:
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
        path = rng.choice(
            [
                "/status",
                "/model",
                "/model/parse",
                "/model/train",
                "/conversations/fuzz-0/tracker",
                "/conversations/fuzz-0/messages",
                "/conversations/fuzz-0/trigger_intent",
                "/conversations/%00/tracker",
                "/domain",
                "/version",
                "/",
                odd_path(rng),
            ]
        )
        token = rng.choice(["", "?token=wrong", "?token=" + "\u00e9"])
        body, headers = chat_body(rng, senders)
        if rng.random() < 0.3:
            headers["Authorization"] = rng.choice(["Bearer x", "Basic Zm9vOmJhcg==", "Bearer"])
        return Probe(
            "rasa http api (no token)", method, f"{rasa}{path}{token}", body, headers, True
        )

    def actions() -> Probe:
        headers = {"Content-Type": "application/json"}
        roll = rng.random()
        if roll < 0.7:
            headers["Authorization"] = f"Bearer {action_token}"
        elif roll < 0.85:
            headers["Authorization"] = rng.choice(
                ["Bearer wrong", "Bearer", "x", "Bearer " + "a" * 500]
            )
        body = action_call(rng)
        if rng.random() < 0.05:
            headers["Content-Encoding"] = "deflate"
        path = rng.choice(["/webhook"] * 8 + ["/actions", "/health", odd_path(rng)])
        method = "POST" if path == "/webhook" or rng.random() < 0.5 else rng.choice(["GET", "PUT"])
        return Probe("action server", method, f"{action}{path}", body, headers, True)

    def web_chat() -> Probe:
        body, headers = chat_body(rng, senders)
        headers["Origin"] = origin if rng.random() < 0.8 else "https://evil.example"
        if rng.random() < 0.2:
            headers["X-Forwarded-For"] = rng.choice(["1.2.3.4", "nonsense", "1.1.1.1, 2.2.2.2"])
        return Probe(
            "web: chat pass-through", "POST", f"{web}/webhooks/widget/webhook", body, headers, True
        )

    def web_pages() -> Probe:
        method = rng.choice(["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
        token = rng.choice(["abc", "x" * 200, "%00", "..", "a-b_c"])
        path = rng.choice(
            [
                "/",
                "/pricing",
                "/privacy",
                "/health",
                "/widget.js",
                "/assets/" + rng.choice(["site.css", "..%2f..%2fbot%2fconfig", "x" * 300]),
                "/favicon.ico",
                "/inbox",
                "/inbox?page=" + rng.choice(["-1", "x", "99999999999999999999"]),
                "/inbox?tier=" + rng.choice(["hot", "%00", "x" * 1000]),
                "/inbox/login",
                "/inbox/logout",
                "/inbox/leads/" + rng.choice(["fuzz-0", "%00", "%ff", "x" * 500, "a/b/c"]),
                "/inbox/leads.json?limit=" + rng.choice(["5", "0", "-3", "x", "1e9", "9" * 40]),
                "/inbox/leads.csv?limit=" + rng.choice(["5", "", "100000"]),
                f"/reps/{token}.ics",
                f"/invite/{token}.ics",
                f"/unsubscribe/{token}",
                odd_path(rng),
            ]
        )
        headers: Dict[str, str] = {}
        roll = rng.random()
        if roll < 0.3:
            headers["Authorization"] = f"Bearer {INBOX_TOKEN}"
        elif roll < 0.4:
            headers["Authorization"] = rng.choice(["Bearer wrong", "Basic x", "Bearer"])
        if rng.random() < 0.2:
            headers["Cookie"] = rng.choice(["leadbot_session=x", "a=b; " * 50, "=;=;"])
        body = None
        if method in ("POST", "PUT"):
            body = rng.choice(
                [
                    b"",
                    b"csrf=x&email=a@b.c&password=p",
                    random_bytes(rng, 200),
                    b"a=" + b"x" * 70_000,
                    b"%%%%&&&===",
                ]
            )
            headers["Content-Type"] = rng.choice(
                [
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x",
                    "text/plain",
                ]
            )
        return Probe("web: pages, inbox, feeds, exports", method, f"{web}{path}", body, headers)

    def visitor_session() -> Probe:
        base = rng.choice([rasa, web])
        entry = "rasa visitor session" if base == rasa else "web: visitor session pass-through"
        method = rng.choice(["POST"] * 7 + ["GET", "PUT", "DELETE", "OPTIONS"])
        body, headers = chat_body(rng, senders)
        headers["Origin"] = rng.choice([origin] * 4 + ["https://evil.example", "null", "é" * 20])
        if rng.random() < 0.3:
            body = rng.choice([b"", b"{}", b"[]", body])
        if method == "OPTIONS":
            headers["Access-Control-Request-Method"] = rng.choice(["POST", "DELETE", "x"])
        return Probe(
            entry, method, f"{base}/webhooks/widget/session", body, headers, method == "POST"
        )

    def long_poll() -> Probe:
        visitor = keys.visitor
        sender = rng.choice(
            [
                "",
                visitor["sender"],
                visitor["sender"],
                "fuzz-0",
                "a" * 200,
                "%00",
                "%C3%A9",
                "a%20b",
                "../x",
                "%F0%9F%99%82",
            ]
        )
        params = [f"sender={sender}"]
        roll = rng.random()
        if roll < 0.4:
            params.append(
                "session="
                + rng.choice([visitor["session"], "", "forged", "x" * 3000, "%00", "%ff"])
            )
        after = rng.choice(
            ["", "", "x", "-1", "1.5", "%C2%B2", "%D9%A1", "9" * 40, "1e9", "0x10", "%00", None]
        )
        if after is not None:
            params.append(f"after={after}")
        if rng.random() < 0.02:  # a real wait: up to 25 s for a message that never comes
            params = [f"sender={visitor['sender']}", f"session={visitor['session']}", "after=0"]
        rng.shuffle(params)
        method = "GET" if rng.random() < 0.85 else rng.choice(["POST", "PUT", "DELETE"])
        headers = {"Origin": rng.choice([origin] * 4 + ["https://evil.example", "null", ""])}
        body = random_bytes(rng, 100) if method != "GET" else None
        return Probe(
            "web: widget long-poll",
            method,
            f"{web}/webhooks/widget/events?" + "&".join(params),
            body,
            headers,
            method == "GET",
        )

    def rep_headers(csrf_in_cookie: bool = False) -> Dict[str, str]:
        headers: Dict[str, str] = {}
        roll = rng.random()
        if roll < 0.6:
            headers["Cookie"] = f"leadbot_session={keys.rep_cookie}"
        elif roll < 0.8:
            headers["Cookie"] = rng.choice(
                ["leadbot_session=forged", "leadbot_session=", "leadbot_session=" + "x" * 3000]
            )
        if rng.random() < 0.1:
            headers["Authorization"] = rng.choice([f"Bearer {INBOX_TOKEN}", "Bearer wrong"])
        return headers

    def csrf_value() -> str:
        return rng.choice([keys.rep_csrf] * 3 + ["", "forged", "x" * 5000, "\u0000"])

    def handoffs() -> Probe:
        one = f"/inbox/handoffs/{odd_id(rng)}"
        action_path = rng.choice(["/take", "/message", "/return", "/close"])
        path = rng.choice(
            [
                "/inbox/handoffs",
                "/inbox/handoffs/",
                one,
                one + "/events.json?after=" + rng.choice(["", "x", "nan", "inf", "-1e400", "1"]),
                one + action_path,
                one + action_path,
                one + action_path,
                one + "/nope",
            ]
        )
        posting = path.endswith(("/take", "/message", "/return", "/close"))
        method = (
            "POST"
            if posting and rng.random() < 0.85
            else rng.choice(["GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
        )
        headers = rep_headers()
        body = None
        if method in ("POST", "PUT"):
            body, form_headers = hostile_form(
                rng, {"csrf": csrf_value(), "text": rng.choice(NASTY_STRINGS)}
            )
            headers.update(form_headers)
        return Probe("web: reps' handoff pages and forms", method, f"{web}{path}", body, headers)

    def meetings() -> Probe:
        token = odd_token(rng)
        path = f"/meetings/{token}" + rng.choice(["", "", "/cancel", "/reschedule", "/nope"])
        method = "GET" if path.endswith(token) else "POST"
        if rng.random() < 0.15:
            method = rng.choice(["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "POST"])
        headers: Dict[str, str] = {}
        if rng.random() < 0.4:
            headers["Origin"] = rng.choice([origin, "https://evil.example", "null", "é"])
        body = None
        if method in ("POST", "PUT"):
            body, form_headers = hostile_form(
                rng,
                {
                    "start": rng.choice(
                        [
                            "2030-01-01T10:00:00Z",
                            "2030-01-01T10:00:00",
                            "1900-01-01T00:00:00+00:00",
                            "9999-12-31T23:59:59+14:00",
                            "0001-01-01T00:00:00-23:59",
                            "tomorrow",
                            "2030-02-30T10:00:00Z",
                            "x" * 41,
                        ]
                    )
                },
            )
            headers.update(form_headers)
        return Probe("web: meeting cancel/reschedule", method, f"{web}{path}", body, headers)

    def sign_in() -> Probe:
        path = rng.choice(
            [
                "/inbox/login",
                "/inbox/login",
                "/inbox/login?next=" + rng.choice(["//evil.example", "/inbox/x", "%00", "é"]),
                "/inbox/logout",
                f"/inbox/welcome/{odd_token(rng)}",
                f"/inbox/welcome/{odd_token(rng)}",
            ]
        )
        method = rng.choice(["GET", "POST", "POST", "POST", "PUT", "HEAD", "OPTIONS"])
        headers: Dict[str, str] = {}
        cookies = []
        roll = rng.random()
        if roll < 0.5:
            cookies.append(f"leadbot_login_csrf={keys.login_csrf}")
        elif roll < 0.7:
            cookies.append(
                rng.choice(["leadbot_login_csrf=short", "leadbot_login_csrf=" + "x" * 64])
            )
        if path == "/inbox/logout" and rng.random() < 0.5:
            cookies.append("leadbot_session=" + rng.choice([keys.rep_cookie, "forged"]))
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
        body = None
        if method in ("POST", "PUT"):
            body, form_headers = hostile_form(
                rng,
                {
                    "csrf": rng.choice([keys.login_csrf, keys.login_csrf, "", "forged"]),
                    "email": rng.choice(["nobody@example.com", REP_EMAIL + "x", "é@é", ""]),
                    "password": rng.choice(["wrong", "x" * 5000, "\u0000", ""]),
                    "again": rng.choice(["wrong", "other", ""]),
                    "next": rng.choice(["/inbox", "//evil.example", "/inbox\\x", "é"]),
                },
            )
            headers.update(form_headers)
        return Probe("web: sign-in and invitations", method, f"{web}{path}", body, headers)

    makers = [
        (16, rest),
        (14, widget),
        (8, rasa_api),
        (12, actions),
        (8, web_chat),
        (8, web_pages),
        (6, visitor_session),
        (6, long_poll),
        (10, handoffs),
        (6, meetings),
        (6, sign_in),
    ]
    weights = [weight for weight, _ in makers]
    return [rng.choices(makers, weights)[0][1]() for _ in range(TOTAL)]


# -- the run -------------------------------------------------------------------------------


@dataclass
class Outcome:
    statuses: Counter = field(default_factory=Counter)
    failures: List[str] = field(default_factory=list)


async def run(all_probes: List[Probe]) -> Dict[str, Outcome]:
    outcomes: Dict[str, Outcome] = defaultdict(Outcome)
    semaphore = asyncio.Semaphore(CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, force_close=True)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def one(probe: Probe) -> None:
            outcome = outcomes[probe.entry]
            async with semaphore:
                try:
                    async with session.request(
                        probe.method,
                        yarl_url(probe.url),
                        data=probe.body,
                        headers=probe.headers,
                        allow_redirects=False,
                    ) as response:
                        body = await response.read()
                        status = response.status
                except asyncio.TimeoutError:
                    outcome.statuses["timeout"] += 1
                    outcome.failures.append(f"timeout: {probe.method} {probe.url[:120]}")
                    return
                except aiohttp.ClientError as error:
                    outcome.statuses[f"closed ({type(error).__name__})"] += 1
                    # The server may close the connection on a body far over its cap that it
                    # won't read; on anything else a closed connection is a failure.
                    if len(probe.body or b"") <= 32_768:
                        outcome.failures.append(
                            f"closed: {probe.method} {probe.url[:120]} {type(error).__name__}"
                        )
                    return
            outcome.statuses[status] += 1
            if status >= 500:
                outcome.failures.append(
                    f"{status}: {probe.method} {probe.url[:120]} {body[:200]!r}"
                )
            elif probe.json_errors and 400 <= status < 500 and probe.method != "HEAD":
                try:
                    parsed = json.loads(body)
                    ok = isinstance(parsed, dict) and ("error" in parsed or "message" in parsed)
                except ValueError:
                    ok = False
                if not ok:
                    outcome.failures.append(
                        f"non-JSON {status}: {probe.method} {probe.url[:120]} {body[:120]!r}"
                    )

        await asyncio.gather(*(one(probe) for probe in all_probes))
    return outcomes


def yarl_url(url: str):  # type: ignore[no-untyped-def]
    import yarl

    return yarl.URL(url, encoded=True)  # send odd paths as they are


def test_fuzzing_every_entry_point(stack: Stack) -> None:
    rng = random.Random(SEED)
    all_probes = probes(stack, keys(stack), rng)
    started = time.monotonic()
    outcomes = asyncio.run(run(all_probes))
    elapsed = time.monotonic() - started

    print(f"\nfuzzed {len(all_probes)} requests in {elapsed:.0f} s (seed {SEED}):")
    for entry, outcome in sorted(outcomes.items()):
        total = sum(outcome.statuses.values())
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(outcome.statuses.items(), key=str))
        print(f"  {entry}: {total} requests -> {counts}")
    failures = [f"{entry}: {f}" for entry, o in outcomes.items() for f in o.failures]
    assert len(all_probes) >= 5_000
    assert not failures, "\n".join(failures[:40])

    # Afterwards the stack still holds a normal conversation.
    assert stack.process.poll() is None
    chat = stack.conversation({"page_url": "https://example.com/after-fuzz"})
    for text in ("I'd like a demo", "yes"):
        reply = chat.reply(text)
        assert reply.strip() and no_reply_text() not in reply, chat.transcript
