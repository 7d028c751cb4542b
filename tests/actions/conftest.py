"""Real Rasa SDK trackers and dispatchers, the real domain, and a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk import Tracker

from actions.common import services
from bot.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'leadbot.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    services.cache_clear()
    yield url
    services.cache_clear()


def make_tracker(
    text: str,
    intent: str,
    confidence: float = 0.95,
    slots: Dict[str, Any] | None = None,
    entities: List[Dict[str, Any]] | None = None,
    events: List[Dict[str, Any]] | None = None,
    active_loop: str | None = "lead_form",
    metadata: Dict[str, Any] | None = None,
    sender_id: str = "visitor-1",
) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=message,
        events=events if events is not None else [{"event": "user", "text": text}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
