"""The words of invites, from plain-text Jinja2 templates in bot/booking/templates/ (the
calendar format escapes them: bot/booking/ics.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

_env = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    autoescape=False,  # plain text; not HTML
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def text(template: str, **values: Any) -> str:
    """A template rendered, without surrounding blank lines."""
    return _env.get_template(template).render(**values).strip()
