"""Visitor sessions: only the server mints a conversation id, and only its token proves it."""

from __future__ import annotations

import pytest

from bot.leads.sessions import new_session, verify

KEY = b"k" * 32


def test_a_minted_session_verifies() -> None:
    session = new_session(KEY)
    assert session.sender_id.startswith("v-") and verify(KEY, session.sender_id, session.token)


def test_every_session_is_new() -> None:
    assert len({new_session(KEY).sender_id for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "change",
    [
        lambda s, t: (s, t[:-1] + ("A" if t[-1] != "A" else "B")),  # a forged token
        lambda s, t: (new_session(KEY).sender_id, t),  # another visitor's id with my token
        lambda s, t: (s, ""),
        lambda s, t: (s, None),
        lambda s, t: (s, t * 10),
        lambda s, t: ("default", t),
        lambda s, t: (s, 12345),
        lambda s, t: (["a list"], t),
        lambda s, t: (s, "\ufffd"),  # a non-ASCII token (`?session=%ff`) is refused, not a 500
        lambda s, t: (s, t[:-1] + "é"),
        lambda s, t: (s, "\ud800"),
    ],
)
def test_anything_else_is_refused(change) -> None:  # type: ignore[no-untyped-def]
    session = new_session(KEY)
    sender, token = change(session.sender_id, session.token)
    assert not verify(KEY, sender, token)


def test_another_key_refuses() -> None:
    session = new_session(KEY)
    assert not verify(b"other-key" * 4, session.sender_id, session.token)
