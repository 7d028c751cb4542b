"""The edge's pure parts: client addresses behind proxies, the limits, replayed messages and
chat request checks (bot/edge/). The same limits across real processes sharing Redis are in
tests/e2e/test_edge_limits.py."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.edge.address import TrustedProxies, client_address, forward_header
from bot.edge.chat import ChatRequestError, parse_chat_request
from bot.edge.ratelimit import ChannelLimits
from bot.edge.replay import ReplayCache

TRUSTED = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])


@pytest.mark.parametrize(
    "peer, forwarded, client",
    [
        ("203.0.113.9", [], "203.0.113.9"),
        # An untrusted peer's X-Forwarded-For is its own claim: ignored.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        # Through trusted proxies, the first untrusted hop from the right is the client.
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["1.1.1.1, 198.51.100.1, 10.1.2.3"], "198.51.100.1"),
        ("127.0.0.1", ["1.1.1.1", "198.51.100.1"], "198.51.100.1"),  # repeated headers
        ("127.0.0.1", ["198.51.100.1:4711"], "198.51.100.1"),
        ("127.0.0.1", ["garbage"], "127.0.0.1"),
        ("127.0.0.1", [], "127.0.0.1"),
        ("::ffff:198.51.100.7", [], "198.51.100.7"),
        # One IPv6 host owns a /64: all of it is one client.
        ("2001:db8:1:2::1", [], "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", [], "2001:db8:1:2::/64"),
        (None, [], "unknown"),
    ],
)
def test_client_address(peer, forwarded, client) -> None:
    assert client_address(peer, forwarded, TRUSTED) == client


def test_trusted_proxies_reject_typos() -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        TrustedProxies(["10.0.0.0/33"])


def test_the_web_process_appends_its_peer() -> None:
    assert forward_header(["1.1.1.1"], "203.0.113.9") == "1.1.1.1, 203.0.113.9"
    assert forward_header([], "203.0.113.9") == "203.0.113.9"


def limits(**overrides) -> ChannelLimits:
    values = dict(
        address_limit=5,
        address_window_s=60,
        sender_limit=3,
        sender_window_s=60,
        new_conversations_per_hour=2,
    )
    values.update(overrides)
    return ChannelLimits(**values)


def test_rotating_sender_ids_does_not_escape_the_address_limit() -> None:
    gate = limits(sender_limit=100, new_conversations_per_hour=100)
    answers = [gate.check("198.51.100.1", f"s{i}") for i in range(7)]
    assert answers[:5] == [None] * 5
    refused = answers[5]
    assert refused and refused.code == "rate_limited" and 1 <= refused.retry_after_s <= 60
    assert gate.check("198.51.100.2", "other") is None  # another address has its own budget


def test_one_conversation_cannot_use_its_address_budget_alone() -> None:
    gate = limits(address_limit=100)
    assert [gate.check("198.51.100.1", "chatty") for _ in range(3)] == [None] * 3
    assert gate.check("198.51.100.1", "chatty").code == "rate_limited"
    assert gate.check("198.51.100.1", "neighbour") is None


def test_new_conversations_per_address_are_capped() -> None:
    gate = limits(address_limit=100)
    assert gate.check("198.51.100.1", "a") is None and gate.check("198.51.100.1", "b") is None
    refused = gate.check("198.51.100.1", "c")
    assert refused and refused.code == "too_many_conversations" and refused.retry_after_s > 60
    assert gate.check("198.51.100.1", "a") is None  # existing conversations go on
    assert gate.check("198.51.100.1", "c").code == "too_many_conversations"  # still new


def test_minted_sessions_are_new_conversations_counted_once() -> None:
    gate = limits(address_limit=100)
    assert gate.mint("198.51.100.1", "w-a") is None and gate.mint("198.51.100.1", "w-b") is None
    refused = gate.mint("198.51.100.1", "w-c")
    assert refused and refused.code == "too_many_conversations" and refused.retry_after_s > 60
    # The minted conversations' first messages are not new conversations a second time.
    assert gate.check("198.51.100.1", "w-a") is None and gate.check("198.51.100.1", "w-b") is None
    assert gate.check("198.51.100.1", "rest-d").code == "too_many_conversations"
    assert gate.mint("198.51.100.2", "w-e") is None  # another address has its own budget


def test_minting_counts_toward_the_address_limit() -> None:
    gate = limits(address_limit=2, new_conversations_per_hour=100)
    assert gate.mint("198.51.100.1", "w-a") is None
    assert gate.check("198.51.100.1", "w-a") is None
    refused = gate.mint("198.51.100.1", "w-b")
    assert refused and refused.code == "rate_limited" and 1 <= refused.retry_after_s <= 60


def test_a_redis_that_does_not_answer_lets_the_chat_through() -> None:
    gate = limits(redis_url="redis://127.0.0.1:1/0", address_limit=1)
    assert gate.check("198.51.100.1", "a") is None and gate.check("198.51.100.1", "a") is None


def test_two_processes_count_together_in_redis() -> None:
    from tests.e2e.test_production_config import _redis_unavailable

    if _redis_unavailable():
        pytest.skip(_redis_unavailable())
    shared = dict(redis_url="redis://127.0.0.1:6379/0", prefix=f"test-{uuid.uuid4().hex}")
    one, two = limits(address_limit=100, **shared), limits(address_limit=100, **shared)
    answers = [(one, two)[i % 2].check("198.51.100.1", "same") for i in range(4)]
    assert answers[:3] == [None] * 3 and answers[3].code == "rate_limited"  # sender limit 3
    assert one.check("198.51.100.1", "x") is None  # new conversation 2 of 2
    assert two.check("198.51.100.1", "y").code == "too_many_conversations"
    forget_keys(shared["prefix"])


def forget_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_replayed_messages_are_computed_once() -> None:
    async def scenario() -> None:
        cache = ReplayCache()
        calls = []

        async def compute():
            calls.append(1)
            await asyncio.sleep(0.1)
            return [{"text": "hello"}]

        first, second = await asyncio.gather(
            cache.once("s", "m1", compute), cache.once("s", "m1", compute)
        )
        assert first == second == [{"text": "hello"}] and len(calls) == 1
        assert await cache.earlier_reply("s", "m1") == [{"text": "hello"}]
        assert await cache.earlier_reply("s", "m2") is None

        async def failing():
            raise RuntimeError("down")

        with pytest.raises(RuntimeError):
            await cache.once("s", "m3", failing)
        assert await cache.once("s", "m3", compute) == [{"text": "hello"}]  # a retry computes

    asyncio.run(scenario())


def test_replies_are_shared_through_redis() -> None:
    pytest.importorskip("redis")
    from tests.e2e.test_production_config import _redis_unavailable

    if _redis_unavailable():
        pytest.skip(_redis_unavailable())
    prefix = f"test-{uuid.uuid4().hex}"

    async def scenario() -> None:
        one, two = (
            ReplayCache("redis://127.0.0.1:6379/0", prefix),
            ReplayCache("redis://127.0.0.1:6379/0", prefix),
        )

        computed = []

        async def compute():  # whichever process claims the message first computes it
            computed.append(1)
            await asyncio.sleep(0.2)
            return [{"text": "once"}]

        results = await asyncio.gather(one.once("s", "m", compute), two.once("s", "m", compute))
        assert results == [[{"text": "once"}]] * 2
        assert len(computed) == 1, "computed twice"

    asyncio.run(scenario())
    forget_keys(prefix)


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_payload"),
        (b'{"message": "hi"}', 400, "invalid_sender"),
        (b'{"sender": "", "message": "hi"}', 400, "invalid_sender"),
        (b'{"sender": "a b", "message": "hi"}', 400, "invalid_sender"),
        (b'{"sender": ["x"], "message": "hi"}', 400, "invalid_sender"),
        (b'{"sender": "ok", "message": 5}', 400, "invalid_message"),
        (b'{"sender": "ok"}', 400, "invalid_message"),
        (b'{"sender": "ok", "message": "hi", "metadata": []}', 400, "invalid_metadata"),
        (b'{"sender": "ok", "message": "hi", "metadata": "x"}', 400, "invalid_metadata"),
        (b'{"sender": "ok", "message": "hi", "message_id": "../x"}', 400, "invalid_message_id"),
        (b'{"sender": "ok", "message": "a\\u0000b"}', 400, "invalid_text"),
        (b'{"sender": "ok", "message": "\\ud800"}', 400, "invalid_text"),
        (b'{"sender": "ok", "message": "hi", "metadata": {"x": NaN}}', 400, "invalid_json"),
        (b"[" * 20_000, 400, "invalid_json"),
        (b'{"sender": "ok", "message": "' + b"x" * 40_000 + b'"}', 413, "too_large"),
        (
            b'{"sender": "ok", "message": "hi", "metadata": {"x": "' + b"y" * 9_000 + b'"}}',
            413,
            "metadata_too_large",
        ),
    ],
)
def test_malformed_chat_requests(body: bytes, status: int, code: str) -> None:
    with pytest.raises(ChatRequestError) as error:
        parse_chat_request(body)
    assert (error.value.status, error.value.code) == (status, code)


def test_a_good_chat_request() -> None:
    chat = parse_chat_request(
        b'{"sender": "v-1", "message": "hi", "metadata": {"locale": "fr"}, "message_id": "m1"}'
    )
    assert (chat.sender, chat.message, chat.metadata, chat.message_id) == (
        "v-1",
        "hi",
        {"locale": "fr"},
        "m1",
    )
