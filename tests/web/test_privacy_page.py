"""The privacy page states what the code does: the retention periods it applies (from the
settings the worker uses), and how to see or erase one's data."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.config.settings import Settings
from bot.web.app import create_app


async def privacy_text(tmp_path: Path, **env: str) -> str:
    settings = Settings.from_env(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'leadbot.db'}",
            "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
            **env,
        }
    )
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    try:
        response = await client.get("/privacy")
        assert response.status == 200
        return " ".join(re.sub(r"<[^>]+>", " ", await response.text()).split())
    finally:
        await client.close()


async def test_the_privacy_page_states_the_retention_that_is_applied(tmp_path: Path) -> None:
    defaults = await privacy_text(tmp_path)
    assert "deleted 30 days after its last message" in defaults
    assert "deleted 730 days (about 24 months) after they were last updated" in defaults
    assert "privacy@example.com" in defaults
    assert '"forget me"' in defaults and '"what do you know about me?"' in defaults
    assert "nothing is erased" in defaults  # atomic: said, and true (tests/bot/test_erasure.py)
    changed = await privacy_text(
        tmp_path,
        RETENTION_NO_CONSENT_DAYS="14",
        RETENTION_DAYS="365",
        PRIVACY_CONTACT_EMAIL="dpo@acme.example",
    )
    assert "deleted 14 days after its last message" in changed
    assert "deleted 365 days (about 12 months)" in changed
    assert "dpo@acme.example" in changed
