"""The words of invites, from plain-text Jinja2 templates in bot/booking/templates/ (the
calendar format escapes them: bot/booking/ics.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config.wording import text_templates

_env = text_templates(
    Path(__file__).resolve().parent / "templates", trim_blocks=True, lstrip_blocks=True
)


def text(template: str, **values: Any) -> str:
    """A template rendered, without surrounding blank lines."""
    return _env.get_template(template).render(**values).strip()
