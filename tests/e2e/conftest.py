"""The real stack for end-to-end tests (see tests/e2e/stack.py)."""

from __future__ import annotations

import pytest

from tests.e2e.stack import Conversation, Stack, start_stack, stop_stack

__all__ = ["Conversation", "Stack"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    from bot.modelcache import current_model
    from bot.settings import Settings

    if current_model(Settings.from_env().model_dir) is None:
        pytest.fail("no trained model for the current data: run `make train` (make test does)")
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    if running.process.poll() is None:
        stop_stack(running)
