"""The real stack for end-to-end tests (see tests/e2e/stack.py). The session-scoped `stack`
fixture itself is in tests/conftest.py, so the browser tests (tests/browser) share one stack."""

from __future__ import annotations

from tests.e2e.stack import Conversation, Stack

__all__ = ["Conversation", "Stack"]
